import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashToken } from '../auth/index.js';

/**
 * Random values and comparisons for the facade's secrets (codes, refresh tokens, state, CSRF
 * tokens, browser bindings, PKCE). Secrets are compared in constant time, and only their SHA-256
 * is kept at rest: they carry 256 bits of entropy, so a fast hash is enough.
 */

/** 256 random bits, base64url. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256, base64url (the gateway's token hash): how secrets are stored and looked up, and PKCE S256. */
export const sha256 = hashToken;

/** Constant-time string comparison (length differences return false without comparing). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isPkceValue(value: string): boolean {
  return PKCE_VALUE.test(value);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) equals the challenge, compared in constant time. */
export function verifyPkce(codeVerifier: string, codeChallenge: string): boolean {
  return isPkceValue(codeVerifier) && safeEqual(sha256(codeVerifier), codeChallenge);
}

/**
 * Short-lived values (authorization request ids, state, codes) start with a tag of the process
 * that issued them, so that a replica without sticky sessions can say why it does not know one
 * ("issued by another replica") instead of treating it as an ordinary unknown value.
 */
export function createTaggedSecrets(replicaTag = randomBytes(6).toString('base64url')) {
  return {
    replicaTag,
    next: () => `${replicaTag}.${randomSecret()}`,
    /** The tag of a value when it names another process. */
    foreignTag(value: string): string | undefined {
      const tag = value.split('.', 1)[0];
      return value.includes('.') && tag !== replicaTag ? tag : undefined;
    },
  };
}
export type TaggedSecrets = ReturnType<typeof createTaggedSecrets>;
