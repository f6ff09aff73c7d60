import type { SigningKey } from '../keys/index.js';

/** A signing key and when it starts signing (ms since the epoch; -Infinity: from the start). */
export interface KeyRingEntry {
  key: SigningKey;
  activeFromMs: number;
}

export interface KeyRing {
  /** The key that signs now. @throws Error when no key is active yet. */
  signingKey(): SigningKey;
  /** The JWKS to publish now, and for how long it may be cached (until the next change, at most 5 minutes). */
  jwks(): { body: string; maxAgeSeconds: number };
}

/** Longest `Cache-Control: max-age` of the JWKS, so new keys reach verifiers that cache it. */
const MAX_JWKS_AGE_SECONDS = 300;

/**
 * The gateway's identity-JWT keys over time. Rotation is declared in the config, so it survives
 * restarts and every replica agrees:
 * - the signing key is the one with the latest `activeFrom` that has passed;
 * - a key is published from the start, before it signs, so verifiers can have it cached;
 * - a key stays published for `retiredPublishMs` after its successor took over (the overlap
 *   window: JWTs it signed are still in flight), then disappears from the JWKS.
 * The JWKS body is rebuilt only when that set changes.
 */
export function createKeyRing(entries: readonly KeyRingEntry[], { retiredPublishMs, now = Date.now }: { retiredPublishMs: number; now?: () => number }): KeyRing {
  const ordered = [...entries].sort((a, b) => a.activeFromMs - b.activeFromMs);
  /** Until when each key is published: forever for the last, its successor's activation + overlap for the others. */
  const publishedUntilMs = ordered.map((_, index) => {
    const successor = ordered[index + 1];
    return successor ? successor.activeFromMs + retiredPublishMs : Number.POSITIVE_INFINITY;
  });
  const changes = [...ordered.map((entry) => entry.activeFromMs), ...publishedUntilMs].filter(Number.isFinite);
  let memo: { body: string; validUntilMs: number; validFromMs: number } | undefined;

  function activeIndex(at: number): number {
    let index = -1;
    ordered.forEach((entry, i) => {
      if (entry.activeFromMs <= at) index = i;
    });
    return index;
  }

  return {
    signingKey() {
      const entry = ordered[activeIndex(now())];
      if (!entry) throw new Error('no identity JWT key is active yet (every activeFrom is in the future)');
      return entry.key;
    },
    jwks() {
      const at = now();
      if (!memo || at < memo.validFromMs || at >= memo.validUntilMs) {
        const keys = ordered.filter((_, index) => at < publishedUntilMs[index]!).map((entry) => entry.key.publicJwk);
        const nextChange = Math.min(...changes.filter((time) => time > at));
        const previousChange = Math.max(...changes.filter((time) => time <= at));
        memo = { body: JSON.stringify({ keys }), validUntilMs: nextChange, validFromMs: previousChange };
      }
      const secondsToChange = Math.floor((memo.validUntilMs - at) / 1000);
      return { body: memo.body, maxAgeSeconds: Math.max(0, Math.min(MAX_JWKS_AGE_SECONDS, secondsToChange)) };
    },
  };
}
