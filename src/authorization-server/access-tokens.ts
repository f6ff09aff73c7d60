import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, SignJWT, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { KeyRing } from '../identity/index.js';

/** RFC 9068 §2.1: the media type of JWT access tokens, in the `typ` header. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** What an access token says: who, through which client, for what, with which identity provider claims. */
export interface AccessTokenGrant {
  subject: string;
  clientId: string;
  scopes: readonly string[];
  resource: string;
  /** Claims copied from the identity provider (groups, email…); never replace the registered ones. */
  claims: Readonly<Record<string, unknown>>;
  /** When the user logged in at the identity provider, seconds since the epoch. */
  authTime: number;
}

export interface AccessTokenSigner {
  sign(grant: AccessTokenGrant): Promise<{ token: string; expiresIn: number }>;
}

/**
 * Signs the facade's access tokens (RFC 9068): `typ: at+jwt`, `iss` the facade, `aud` the
 * resource, `sub` the user, `client_id` the agent, `scope` what was granted, a `jti`, short
 * lifetime; plus the copied identity provider claims. Keys come from the same KeyRing as the
 * identity JWT (rotation declared in the config).
 */
export function createAccessTokenSigner({ issuer, keyRing, ttlSeconds, now = Date.now }: { issuer: string; keyRing: KeyRing; ttlSeconds: number; now?: () => number }): AccessTokenSigner {
  return {
    async sign(grant) {
      const key = keyRing.signingKey();
      const issuedAt = Math.floor(now() / 1000);
      const token = await new SignJWT({
        ...grant.claims,
        client_id: grant.clientId,
        ...(grant.scopes.length > 0 ? { scope: grant.scopes.join(' ') } : {}),
        auth_time: grant.authTime,
      })
        .setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(issuer)
        .setSubject(grant.subject)
        .setAudience(grant.resource)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .setJti(randomUUID())
        .sign(key.privateKey);
      return { token, expiresIn: ttlSeconds };
    },
  };
}

/**
 * A jose key resolver over the key ring's published keys, so the gateway's resource-server side
 * verifies the facade's tokens like any other issuer's, without an HTTP round trip to itself.
 * The local key set is rebuilt only when the published set changes (the ring memoises its body).
 */
export function createLocalKeyResolver(keyRing: Pick<KeyRing, 'jwks'>): JWTVerifyGetKey {
  let memo: { body: string; resolve: JWTVerifyGetKey } | undefined;
  return (header, token) => {
    const { body } = keyRing.jwks();
    if (memo?.body !== body) memo = { body, resolve: createLocalJWKSet(JSON.parse(body) as JSONWebKeySet) };
    return memo.resolve(header, token);
  };
}
