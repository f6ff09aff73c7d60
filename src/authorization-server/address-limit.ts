import type { Context } from 'hono';
import type { GatewayEnv } from '../http/index.js';
import { RateLimiter } from '../limits/index.js';

export interface AddressLimitOptions {
  requestsPerMinute: number;
  burst: number;
  maxAddresses: number;
  /** listen.trustForwardedHeaders: take the address a proxy you run appended to X-Forwarded-For. */
  trustForwardedHeaders: boolean;
  now?: () => number;
}

export interface AddressLimiter {
  /** Takes one request from the caller's bucket: 0 when allowed, else the seconds to wait (Retry-After). */
  take(c: Context<GatewayEnv>): number;
}

/** The caller's address: the socket peer, or the last X-Forwarded-For entry (the one a trusted proxy appended). */
export function clientAddress(headers: Headers, socketAddress: string | undefined, trustForwardedHeaders: boolean): string {
  const forwarded = trustForwardedHeaders ? headers.get('x-forwarded-for')?.split(',').at(-1)?.trim() : undefined;
  return forwarded || socketAddress || 'unknown';
}

/**
 * A token bucket per client address (the gateway's RateLimiter, bounded memory), shared by the
 * facade's endpoints that anyone can call and that make it store or fetch something.
 */
export function createAddressLimiter(options: AddressLimitOptions): AddressLimiter {
  const limiter = new RateLimiter({
    requestsPerSecond: options.requestsPerMinute / 60,
    burst: options.burst,
    maxPrincipals: options.maxAddresses,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    take: (c) => limiter.take(clientAddress(c.req.raw.headers, c.env?.incoming?.socket.remoteAddress, options.trustForwardedHeaders)),
  };
}
