import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** JWS algorithms the gateway signs with (identity JWTs, private_key_jwt assertions). */
export const SIGNING_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A private key the gateway signs with, ready for jose. */
export interface SigningKey {
  privateKey: KeyObject;
  /** The public half as a JWK with `kid`, `alg` and `use: sig`, as published in a JWKS. */
  publicJwk: JWK & { kid: string; alg: SigningAlgorithm };
  kid: string;
  algorithm: SigningAlgorithm;
}

/** RFC 7518 §3.4: the curve fixes the ECDSA algorithm. */
const EC_ALGORITHM: Record<string, SigningAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const RSA_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
/** RFC 7518 §3.3 / NIST: RSA keys below 2048 bits are refused. */
const MIN_RSA_BITS = 2048;

/**
 * Reads a private key from its text: PEM (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE
 * KEY`) or a private JWK as JSON. Unencrypted keys only.
 * @throws TypeError saying what is wrong, never echoing the key.
 */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(trimmed);
  } catch {
    throw new TypeError('not a PEM private key or a private JWK (unencrypted PKCS#8, SEC1 or PKCS#1 PEM; or JSON with "d")');
  }
  allowedAlgorithms(key);
  return key;
}

/** The algorithms a key can sign with; the first is its default. @throws TypeError for unusable keys. */
export function allowedAlgorithms(key: KeyObject): readonly SigningAlgorithm[] {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const algorithm = EC_ALGORITHM[details.namedCurve ?? ''];
      if (!algorithm) throw new TypeError(`EC curve ${details.namedCurve ?? 'unknown'} is not supported (use P-256, P-384 or P-521)`);
      return [algorithm];
    }
    case 'rsa':
      if ((details.modulusLength ?? 0) < MIN_RSA_BITS) throw new TypeError(`RSA keys need at least ${MIN_RSA_BITS} bits`);
      return RSA_ALGORITHMS;
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new TypeError(`${key.asymmetricKeyType ?? 'this'} key type is not supported (use EC, RSA or Ed25519)`);
  }
}

/**
 * Prepares a signing key: checks the algorithm against the key type and derives the `kid`
 * (RFC 7638 thumbprint of the public key unless one is given).
 * @throws TypeError when `algorithm` does not fit the key.
 */
export function loadSigningKey(text: string, options: { kid?: string | undefined; algorithm?: SigningAlgorithm | undefined } = {}): SigningKey {
  const privateKey = parsePrivateKey(text);
  const allowed = allowedAlgorithms(privateKey);
  const algorithm = options.algorithm ?? allowed[0]!;
  if (!allowed.includes(algorithm)) {
    throw new TypeError(`algorithm ${algorithm} does not fit this key (allowed: ${allowed.join(', ')})`);
  }
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = options.kid ?? jwkThumbprint(jwk);
  return { privateKey, publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' }, kid, algorithm };
}

/**
 * RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: the hash of its required members in
 * lexicographic order, without whitespace. Synchronous, so keys load while the gateway is built.
 */
export function jwkThumbprint(jwk: JWK): string {
  const required: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
  const members = required[jwk.kty ?? ''];
  if (!members) throw new TypeError(`cannot compute a thumbprint for key type ${jwk.kty ?? 'unknown'}`);
  const canonical = `{${members.map((name) => `"${name}":${JSON.stringify(jwk[name as keyof JWK])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Checks a key and its algorithm without loading it; returns the problem, or undefined (for config validation). */
export function describeKeyProblem(text: string, algorithm?: SigningAlgorithm): string | undefined {
  try {
    const allowed = allowedAlgorithms(parsePrivateKey(text));
    if (algorithm && !allowed.includes(algorithm)) return `algorithm ${algorithm} does not fit this key (allowed: ${allowed.join(', ')})`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
