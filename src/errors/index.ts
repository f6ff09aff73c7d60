export * from './gateway-error.js';
export * from './error-table.js';
export * from './error-response.js';
