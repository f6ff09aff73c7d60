import type { Handler } from 'hono';
import type { KeyRing } from '../identity/index.js';
import type { GatewayEnv } from './context.js';

/**
 * Serves the public keys of the gateway's identity JWTs (`identity.jwt`) at
 * `/.well-known/jwks.json`: built from keys in memory (never a 5xx), readable from any origin,
 * cacheable until the key set next changes (at most 5 minutes).
 */
export function createJwksEndpoint(keyRing: Pick<KeyRing, 'jwks'>): Handler<GatewayEnv> {
  return function identityJwks(c) {
    c.header('access-control-allow-origin', '*');
    if (c.req.method === 'OPTIONS') {
      c.header('access-control-allow-methods', 'GET, OPTIONS');
      c.header('access-control-allow-headers', '*');
      return c.body(null, 204);
    }
    const { body, maxAgeSeconds } = keyRing.jwks();
    c.header('cache-control', `public, max-age=${maxAgeSeconds}`);
    return c.body(body, 200, { 'content-type': 'application/jwk-set+json' });
  };
}
