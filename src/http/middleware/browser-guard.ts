import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import { buildPreflightHeaders, isHostAllowed, isOriginAllowed, type OriginPolicy } from '../browser-safety.js';
import type { GatewayEnv } from '../context.js';

/** CORS preflight for the MCP endpoint: answered without authentication, for allowed origins only. */
export function createPreflight(policy: OriginPolicy): MiddlewareHandler<GatewayEnv> {
  return async function corsPreflight(c) {
    const origin = c.req.header('origin');
    if (origin === undefined || !isOriginAllowed(policy, origin)) {
      throw new GatewayError('forbidden_origin', { detail: 'preflight from an origin not in security.allowedOrigins' });
    }
    return c.body(null, 204, buildPreflightHeaders(origin, c.req.header('access-control-request-headers')));
  };
}

/** Optional Host allow-list (DNS rebinding): applies to every route but the health probes, which kubelets call by pod IP. */
export function createHostGuard(policy: OriginPolicy, exempt: ReadonlySet<string>): MiddlewareHandler<GatewayEnv> {
  return async function guardHost(c, next) {
    if (!exempt.has(c.req.path) && !isHostAllowed(policy, c.req.header('host'))) {
      throw new GatewayError('forbidden_host', { detail: 'Host not in security.allowedHosts' });
    }
    await next();
  };
}
