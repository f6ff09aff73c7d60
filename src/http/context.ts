import type { HttpBindings } from '@hono/node-server';

/**
 * Hono environment: the node:http request and response are reachable, for the
 * routes that hand them on (the MCP endpoint, which forwards without copies).
 */
export type GatewayEnv = { Bindings: Partial<HttpBindings> };
