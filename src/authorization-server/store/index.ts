export { FileClientStore, type ClientStore } from './client-store.js';
export { MemoryEphemeralStore, type EphemeralStore } from './ephemeral-store.js';
export { JsonLinesFile } from './json-lines-file.js';
export { FileRefreshTokenStore, type RefreshTokenFamily, type RefreshTokenStore, type RotationResult } from './refresh-token-store.js';
