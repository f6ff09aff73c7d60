import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiKeyDigest, type ApiKeyConfig } from '../config/index.js';
import { FINGERPRINT_LENGTH, type Principal } from './principal.js';

/**
 * Static API keys, the simplest tier: a long random secret per caller, presented as
 * `Authorization: Bearer <key>` like a token. The config holds only SHA-256 hashes, so a leaked
 * config file leaks no key. Generated keys carry a recognisable prefix (secret scanners find them,
 * and a mistyped or revoked one is never sent to an introspection endpoint).
 */
export const API_KEY_PREFIX = 'mgw_';

/** The `issuer` of every API-key principal (audit `who.issuer`). */
export const API_KEY_ISSUER = 'api-key';

/** A new key (32 random bytes) and the `hash` to configure for it. The key is shown once and stored nowhere. */
export function generateApiKey(): { key: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: `sha256:${createHash('sha256').update(key).digest('base64url')}` };
}

export interface ApiKeyVerifier {
  /**
   * The principal of the configured key whose hash equals `digest` (the SHA-256 of the presented
   * credential), or undefined. Compares with every configured hash in constant time, with no
   * early exit, so neither the answer's timing nor its position in the list tells anything.
   */
  match(digest: Buffer): Principal | undefined;
}

/** Builds each key's principal once, at start-up: a request costs one hash and N comparisons. */
export function createApiKeyVerifier(keys: readonly ApiKeyConfig[]): ApiKeyVerifier {
  const entries = keys.map((key) => {
    const digest = apiKeyDigest(key.hash);
    const subject = key.subject ?? `api-key:${key.name}`;
    const principal: Principal = Object.freeze({
      issuer: API_KEY_ISSUER,
      subject,
      clientId: key.name,
      scopes: new Set(key.scopes),
      // What policy claim conditions and identity headers can read about an API-key caller.
      claims: Object.freeze({ iss: API_KEY_ISSUER, sub: subject, client_id: key.name, scope: key.scopes.join(' ') }),
      expiresAt: Number.POSITIVE_INFINITY,
      tokenFingerprint: digest.toString('base64url').slice(0, FINGERPRINT_LENGTH),
      authenticationMethod: 'api_key',
    });
    return { digest, principal };
  });
  return {
    match(digest) {
      let found: Principal | undefined;
      for (const entry of entries) {
        const equal = timingSafeEqual(entry.digest, digest);
        found = equal && !found ? entry.principal : found;
      }
      return found;
    },
  };
}
