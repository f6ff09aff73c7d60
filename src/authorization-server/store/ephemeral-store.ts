import { LRUCache } from 'lru-cache';

/**
 * Short-lived, single-use state: pending authorization requests, the state of a login at the
 * identity provider, authorization codes. Minutes at most, so memory is the default; with several
 * replicas either route a browser and its client to one replica (sticky sessions) or implement
 * this on a shared store (`take` must be atomic: get and delete in one step, e.g. Redis GETDEL).
 */
export interface EphemeralStore<T> {
  set(key: string, value: T, ttlMs: number): Promise<void>;
  get(key: string): Promise<T | undefined>;
  /** Returns the value and deletes it, atomically: a second take of the same key gets nothing. */
  take(key: string): Promise<T | undefined>;
  delete(key: string): Promise<void>;
}

/** In memory, bounded (the least recently used entries go first when full), each entry with its TTL. */
export class MemoryEphemeralStore<T extends object> implements EphemeralStore<T> {
  readonly #cache: LRUCache<string, T>;

  constructor({ maxEntries, now }: { maxEntries: number; now?: () => number }) {
    this.#cache = new LRUCache<string, T>({ max: maxEntries, ...(now ? { perf: { now }, ttlResolution: 0 } : {}) });
  }

  async set(key: string, value: T, ttlMs: number): Promise<void> {
    this.#cache.set(key, value, { ttl: ttlMs });
  }

  async get(key: string): Promise<T | undefined> {
    return this.#cache.get(key);
  }

  async take(key: string): Promise<T | undefined> {
    const value = this.#cache.get(key);
    if (value !== undefined) this.#cache.delete(key);
    return value;
  }

  async delete(key: string): Promise<void> {
    this.#cache.delete(key);
  }
}
