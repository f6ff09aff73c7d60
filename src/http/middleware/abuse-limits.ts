import type { MiddlewareHandler } from 'hono';
import type { Principal } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import type { RateLimiter, StreamCounter } from '../../limits/index.js';
import type { GatewayEnv } from '../context.js';

/** A principal as the limits and session binding see it: issuer, subject and client together. */
export function principalKey(principal: Principal): string {
  return `${principal.issuer}\n${principal.subject}\n${principal.clientId ?? ''}`;
}

/** Per-principal token bucket, right after authentication: over it → 429 with Retry-After. */
export function createRateLimit(limiter: RateLimiter | undefined): MiddlewareHandler<GatewayEnv> {
  return async function rateLimit(c, next) {
    const waitSeconds = limiter?.take(principalKey(c.get('principal'))) ?? 0;
    if (waitSeconds > 0) {
      throw new GatewayError('rate_limited', { headers: { 'retry-after': String(waitSeconds) }, detail: 'per-principal rate limit' });
    }
    await next();
  };
}

/**
 * Caps the long-lived streams a principal holds open at once: GET listen
 * streams (2025-11-25) and `subscriptions/listen` (2026-07-28). The slot is
 * released when the stream ends, however it ends.
 */
export function createStreamCap(streams: StreamCounter): MiddlewareHandler<GatewayEnv> {
  return async function limitStreams(c, next) {
    const longLived =
      c.req.method === 'GET' ||
      (c.req.method === 'POST' && c.get('rpcBody').messages.some((message) => message.kind === 'request' && message.method === 'subscriptions/listen'));
    if (!longLived) return next();
    const release = streams.tryOpen(principalKey(c.get('principal')));
    if (!release) throw new GatewayError('too_many_streams', { headers: { 'retry-after': '5' }, detail: 'per-principal stream cap' });
    try {
      await next();
    } finally {
      release();
    }
  };
}
