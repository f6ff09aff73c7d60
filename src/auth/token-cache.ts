import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

/**
 * Verified tokens, so a client's repeated calls cost one hash instead of one
 * signature check. Keyed by SHA-256 of the token (the token itself is never
 * kept); bounded by `maxEntries`; an entry never outlives the token's `exp` nor
 * `maxTtlMs`. Failures are not cached: an attacker could fill the cache.
 */
export class TokenCache {
  #cache: LRUCache<string, Principal> | undefined;
  #maxTtlMs: number;
  #now: () => number;

  constructor({ maxEntries, maxTtlMs, now = Date.now }: { maxEntries: number; maxTtlMs: number; now?: () => number }) {
    this.#maxTtlMs = maxTtlMs;
    this.#now = now;
    this.#cache = maxEntries > 0 ? new LRUCache<string, Principal>({ max: maxEntries }) : undefined;
  }

  get(key: string): Principal | undefined {
    const principal = this.#cache?.get(key);
    if (principal && principal.expiresAt * 1000 <= this.#now()) {
      this.#cache?.delete(key);
      return undefined;
    }
    return principal;
  }

  set(key: string, principal: Principal): void {
    const ttlMs = Math.min(this.#maxTtlMs, principal.expiresAt * 1000 - this.#now());
    if (ttlMs > 0) this.#cache?.set(key, principal, { ttl: ttlMs });
  }
}

/** SHA-256 of a token, base64url: the cache key, and (first 12 chars) the audit fingerprint. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
