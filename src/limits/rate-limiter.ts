import { LRUCache } from 'lru-cache';

export interface RateLimitOptions {
  /** Sustained rate per principal, in requests per second. */
  requestsPerSecond: number;
  /** Requests a principal may send at once after being idle. */
  burst: number;
  /** Principals tracked at once; the least recently seen are forgotten (and start with a full bucket). */
  maxPrincipals: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per principal, in bounded memory. `take` is O(1) and
 * allocation-free for a known principal.
 */
export class RateLimiter {
  readonly #buckets: LRUCache<string, Bucket>;
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(options: RateLimitOptions) {
    this.#buckets = new LRUCache({ max: options.maxPrincipals });
    this.#ratePerMs = options.requestsPerSecond / 1000;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token. Returns 0 when allowed, else the seconds until a token is available (for Retry-After). */
  take(principalKey: string): number {
    const now = this.#now();
    let bucket = this.#buckets.get(principalKey);
    if (!bucket) {
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(principalKey, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.updatedAt) * this.#ratePerMs);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#ratePerMs / 1000));
  }
}

/** Counts open streams per principal, to cap them. */
export class StreamCounter {
  readonly #open = new Map<string, number>();

  constructor(private readonly maxPerPrincipal: number) {}

  /** Opens a stream slot; returns a release function, or undefined when the principal is at its cap. */
  tryOpen(principalKey: string): (() => void) | undefined {
    const current = this.#open.get(principalKey) ?? 0;
    if (current >= this.maxPerPrincipal) return undefined;
    this.#open.set(principalKey, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const remaining = (this.#open.get(principalKey) ?? 1) - 1;
      if (remaining <= 0) this.#open.delete(principalKey);
      else this.#open.set(principalKey, remaining);
    };
  }
}
