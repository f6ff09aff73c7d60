import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import { buildCorsHeaders, buildPreflightHeaders, isHostAllowed, isOriginAllowed, type OriginPolicy } from '../browser-safety.js';
import type { GatewayEnv } from '../context.js';
import { readHeader } from '../request-headers.js';

/**
 * On the MCP endpoint, before anything else: an `Origin` that is present and
 * not allowed is refused with 403 (MCP transports, DNS rebinding); an allowed
 * browser origin gets CORS headers on whatever response follows.
 */
export function createOriginGuard(policy: OriginPolicy): MiddlewareHandler<GatewayEnv> {
  return async function guardOrigin(c, next) {
    const origin = readHeader(c, 'origin');
    if (!isOriginAllowed(policy, origin)) throw new GatewayError('forbidden_origin', { detail: 'Origin not in security.allowedOrigins' });
    c.set('corsHeaders', buildCorsHeaders(origin));
    await next();
  };
}

/** CORS preflight for the MCP endpoint: answered without authentication, for allowed origins only. */
export function createPreflight(policy: OriginPolicy): MiddlewareHandler<GatewayEnv> {
  return async function corsPreflight(c) {
    const origin = readHeader(c, 'origin');
    if (origin === undefined || !isOriginAllowed(policy, origin)) {
      throw new GatewayError('forbidden_origin', { detail: 'preflight from an origin not in security.allowedOrigins' });
    }
    return c.body(null, 204, buildPreflightHeaders(origin, readHeader(c, 'access-control-request-headers')));
  };
}

/** Optional Host allow-list (DNS rebinding): applies to every route but the health probes, which kubelets call by pod IP. */
export function createHostGuard(policy: OriginPolicy, exempt: ReadonlySet<string>): MiddlewareHandler<GatewayEnv> {
  return async function guardHost(c, next) {
    if (!exempt.has(c.req.path) && !isHostAllowed(policy, readHeader(c, 'host'))) {
      throw new GatewayError('forbidden_host', { detail: 'Host not in security.allowedHosts' });
    }
    await next();
  };
}
