import { LRUCache } from 'lru-cache';

interface Challenge {
  eventId: string;
  requestedScopes: string[];
  grantedScopes: readonly string[];
}

/**
 * Notices a client that comes back with broader scopes after a 403
 * insufficient_scope challenge (MCP security best practices: log scope
 * elevation), keyed by issuer + subject + client. Bounded; a challenge is
 * remembered for `ttlMs`.
 */
export class ScopeElevationTracker {
  readonly #challenges: LRUCache<string, Challenge>;

  constructor({ maxEntries = 10_000, ttlMs = 15 * 60_000 }: { maxEntries?: number; ttlMs?: number } = {}) {
    this.#challenges = new LRUCache({ max: maxEntries, ttl: ttlMs });
  }

  recordChallenge(principalKey: string, challenge: Challenge): void {
    this.#challenges.set(principalKey, challenge);
  }

  /** When `scopes` goes beyond what was granted at the challenge, returns the challenge (once). */
  checkElevation(principalKey: string, scopes: ReadonlySet<string>): Challenge | undefined {
    const challenge = this.#challenges.get(principalKey);
    if (!challenge) return undefined;
    const broader = [...scopes].some((scope) => !challenge.grantedScopes.includes(scope));
    if (!broader) return undefined;
    this.#challenges.delete(principalKey);
    return challenge;
  }
}
