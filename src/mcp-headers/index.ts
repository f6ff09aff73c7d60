export { decodeHeaderValue, headerFormOf } from './header-value.js';
export { checkMirroredHeaders, type HeaderReader } from './mirrored-headers.js';
export { ToolHeaderRegistry, type ParamHeader } from './tool-header-registry.js';
