import { SignJWT } from 'jose';
import type { Principal } from '../auth/index.js';
import type { KeyRing } from './key-ring.js';

/** JWT `typ` of the identity JWT (RFC 8725 §3.11 explicit typing): verifiers should require it. */
export const IDENTITY_JWT_TYPE = 'mcp-identity+jwt';

export interface IdentityJwtOptions {
  /** `iss`: the gateway. */
  issuer: string;
  /** `aud`: the upstream. */
  audience: string;
  /** Lifetime, at most 60 s. */
  ttlSeconds: number;
  keyRing: KeyRing;
  now?: () => number;
}

export interface IdentityJwtSigner {
  /** A JWT naming the principal's user, agent and scopes; reused for the same principal for up to half its lifetime. */
  sign(principal: Principal): Promise<{ jwt: string; kid: string }>;
}

/**
 * Signs the short-lived identity JWT the upstream can verify against the gateway's JWKS:
 * `iss` the gateway, `aud` the upstream, `sub` the user, `sub_id` the user with their issuer
 * (RFC 9493), `client_id` the agent, `scope` the granted scopes, `iat`/`exp` at most
 * `ttlSeconds` apart and never past the user token's expiry.
 * No `jti`: it asserts who is calling, like an access token, and may be presented more than once
 * within its lifetime. Signed JWTs are kept per principal object (the verifier caches principals
 * per token), so repeated calls with one token sign once per half lifetime.
 */
export function createIdentityJwtSigner(options: IdentityJwtOptions): IdentityJwtSigner {
  const now = options.now ?? Date.now;
  const signed = new WeakMap<Principal, { jwt: string; kid: string; reuseUntilMs: number }>();

  return {
    async sign(principal) {
      const key = options.keyRing.signingKey();
      const at = now();
      const cached = signed.get(principal);
      if (cached && cached.kid === key.kid && at < cached.reuseUntilMs) return cached;

      const issuedAt = Math.floor(at / 1000);
      // Never past the user token's expiry (but at least a second, for a token inside the verifier's clock tolerance).
      const expiresAt = Math.max(issuedAt + 1, Math.min(issuedAt + options.ttlSeconds, principal.expiresAt));
      const jwt = await new SignJWT({
        // `sub` is only unique within its issuer, and the gateway may trust several: RFC 9493's
        // subject identifier names both (format iss_sub), with the user's issuer, not the gateway.
        sub_id: { format: 'iss_sub', iss: principal.issuer, sub: principal.subject },
        ...(principal.clientId ? { client_id: principal.clientId } : {}),
        ...(principal.scopes.size > 0 ? { scope: [...principal.scopes].join(' ') } : {}),
      })
        .setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: IDENTITY_JWT_TYPE })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setSubject(principal.subject)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(key.privateKey);
      const entry = { jwt, kid: key.kid, reuseUntilMs: (issuedAt + (expiresAt - issuedAt) / 2) * 1000 };
      signed.set(principal, entry);
      return entry;
    },
  };
}
