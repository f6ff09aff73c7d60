import type { Principal } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import type { RateLimiter, StreamCounter } from '../../limits/index.js';
import type { McpExchange } from './exchange.js';

/** A principal as the limits and session binding see it: issuer, subject and client together. */
export function principalKey(principal: Principal): string {
  return `${principal.issuer}\n${principal.subject}\n${principal.clientId ?? ''}`;
}

/** Per-principal token bucket, right after authentication: over it → 429 with Retry-After. */
export function checkRateLimit(limiter: RateLimiter, principal: Principal): void {
  const waitSeconds = limiter.take(principalKey(principal));
  if (waitSeconds > 0) {
    throw new GatewayError('rate_limited', { headers: { 'retry-after': String(waitSeconds) }, detail: 'per-principal rate limit' });
  }
}

/**
 * Caps the long-lived streams a principal holds open at once: GET listen
 * streams (2025-11-25) and `subscriptions/listen` (2026-07-28). Returns the
 * release to call when the stream ends, however it ends; undefined when the
 * request is not a long-lived stream.
 */
export function claimStreamSlot(streams: StreamCounter, exchange: McpExchange, principal: Principal): (() => void) | undefined {
  const longLived =
    exchange.method === 'GET' ||
    (exchange.method === 'POST' && exchange.rpcBody!.messages.some((message) => message.kind === 'request' && message.method === 'subscriptions/listen'));
  if (!longLived) return undefined;
  const release = streams.tryOpen(principalKey(principal));
  if (!release) throw new GatewayError('too_many_streams', { headers: { 'retry-after': '5' }, detail: 'per-principal stream cap' });
  return release;
}
