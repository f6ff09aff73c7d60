export { createApp, mountOperations, type AppDependencies } from './app.js';
export type { GatewayEnv } from './context.js';
export { createJwksEndpoint } from './jwks-endpoint.js';
export { buildReadiness, type Readiness, type ReadinessSource } from './health.js';
export { listen, type ListeningServer } from './server.js';
export { createMcpEndpoint, type McpEndpoint, type McpEndpointDependencies } from './mcp/mcp-endpoint.js';
