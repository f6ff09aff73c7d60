import { ConfigError } from '../config/index.js';
import { loadSigningKey, type SigningAlgorithm, type SigningKey } from '../keys/index.js';

/** A signing key and when it starts signing (ms since the epoch; -Infinity: from the start). */
export interface KeyRingEntry {
  key: SigningKey;
  activeFromMs: number;
}

export interface KeyRing {
  /** The key that signs now. @throws Error when no key is active yet. */
  signingKey(): SigningKey;
  /** Every key of the ring, whatever its period (e.g. to list the algorithms a verifier must allow). */
  readonly keys: readonly SigningKey[];
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
    keys: ordered.map((entry) => entry.key),
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

/** A signing key as configured (`identity.jwt.keys[]`, `authorizationServer.signingKeys[]`). */
export interface ConfiguredKey {
  privateKey: string;
  kid?: string | undefined;
  algorithm?: SigningAlgorithm | undefined;
  /** ISO 8601; absent: active from the start. */
  activeFrom?: string | undefined;
}

/**
 * Loads configured keys into a ring and checks, at start-up rather than at the first signature,
 * that one of them is active now.
 * @throws ConfigError naming `configPath` when every key's activeFrom is in the future
 */
export function loadKeyRing(keys: readonly ConfiguredKey[], options: { retiredPublishMs: number; now?: () => number; configPath: string }): KeyRing {
  const ring = createKeyRing(
    keys.map((key) => ({
      key: loadSigningKey(key.privateKey, { kid: key.kid, algorithm: key.algorithm }),
      activeFromMs: key.activeFrom ? Date.parse(key.activeFrom) : Number.NEGATIVE_INFINITY,
    })),
    { retiredPublishMs: options.retiredPublishMs, ...(options.now ? { now: options.now } : {}) },
  );
  try {
    ring.signingKey();
  } catch (error) {
    throw new ConfigError([{ path: options.configPath, message: (error as Error).message }]);
  }
  return ring;
}
