import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

/**
 * Verified tokens, so a client's repeated calls cost one hash instead of one
 * signature check or one introspection round trip. Keyed by SHA-256 of the token
 * (the token itself is never kept); bounded by `maxEntries`; an entry never
 * outlives the token's `exp`, `maxTtlMs`, nor the bound given for it (an issuer's
 * introspection `cacheMaxSeconds`). Failures are not cached here: an attacker
 * could fill the cache (introspection keeps its few refusals in a cache of its own).
 */
export class TokenCache {
  #cache: LRUCache<string, { principal: Principal; untilMs: number }> | undefined;
  #maxTtlMs: number;
  #now: () => number;

  constructor({ maxEntries, maxTtlMs, now = Date.now }: { maxEntries: number; maxTtlMs: number; now?: () => number }) {
    this.#maxTtlMs = maxTtlMs;
    this.#now = now;
    this.#cache = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  get(key: string): Principal | undefined {
    const entry = this.#cache?.get(key);
    // The deadline is checked against the injected clock; lru-cache's own ttl only frees memory.
    if (entry && entry.untilMs <= this.#now()) {
      this.#cache?.delete(key);
      return undefined;
    }
    return entry?.principal;
  }

  /** @param maxTtlMs a tighter bound for this entry (an issuer's introspection cacheMaxSeconds) */
  set(key: string, principal: Principal, maxTtlMs = this.#maxTtlMs): void {
    const now = this.#now();
    const ttlMs = Math.min(this.#maxTtlMs, maxTtlMs, principal.expiresAt * 1000 - now);
    if (ttlMs > 0) this.#cache?.set(key, { principal, untilMs: now + ttlMs }, { ttl: ttlMs });
  }
}

/** SHA-256 of a token, base64url: the cache key, and (first 12 chars) the audit fingerprint. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
