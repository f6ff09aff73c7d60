export * from './challenge.js';
export * from './protected-resource-metadata.js';
export * from './discovery-view.js';
