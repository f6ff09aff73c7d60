import type { JWTPayload } from 'jose';
import { buildClaimMapping, type ClaimMapping } from './claim-mapping.js';

/**
 * How the caller proved who it is: a JWT verified with the issuer's keys, an opaque (or
 * introspection-only) token the issuer confirmed by RFC 7662 introspection, or a static API key.
 */
export type AuthenticationMethod = 'jwt' | 'introspection' | 'api_key';

/** The authenticated caller, as the rest of the pipeline (policy, audit, forwarding) sees it. */
export interface Principal {
  /** The token's issuer; `api-key` for API keys. */
  issuer: string;
  /** The human (or service) the token speaks for: the mapped subject (`sub`), else the client id. */
  subject: string;
  /** The agent: the mapped client id (`client_id` (RFC 9068) or `azp` (OpenID) by default). */
  clientId: string | undefined;
  /** The mapped scopes (`scope`/`scp` by default, plus any `additionalScopes` claims). */
  scopes: ReadonlySet<string>;
  /** All claims of the verified token (or introspection response), unmapped, for claim conditions and identity propagation. */
  claims: Readonly<JWTPayload>;
  /** Token expiry, seconds since the epoch; `Infinity` for an API key. */
  expiresAt: number;
  /** A short, non-reversible token fingerprint for audit correlation (never the token). */
  tokenFingerprint: string;
  authenticationMethod: AuthenticationMethod;
}

/** Length of the token fingerprint recorded in audit records. */
export const FINGERPRINT_LENGTH = 12;

/** The principal of a verified token: its fields read through the issuer's claim mapping. */
export function buildPrincipal(input: {
  issuer: string;
  claims: Readonly<JWTPayload>;
  mapping: ClaimMapping;
  expiresAt: number;
  /** SHA-256 of the token, base64url. */
  tokenHash: string;
  authenticationMethod: AuthenticationMethod;
}): Principal {
  const clientId = input.mapping.clientId(input.claims);
  return {
    issuer: input.issuer,
    subject: input.mapping.subject(input.claims) ?? clientId ?? 'unknown',
    clientId,
    scopes: input.mapping.scopes(input.claims),
    claims: input.claims,
    expiresAt: input.expiresAt,
    tokenFingerprint: input.tokenHash.slice(0, FINGERPRINT_LENGTH),
    authenticationMethod: input.authenticationMethod,
  };
}

const standardClaims = buildClaimMapping();

/** Scopes from `scope` (space-separated, RFC 9068/8693) or `scp` (string or array: Entra, Okta). */
export function readScopes(claims: JWTPayload): Set<string> {
  return standardClaims.scopes(claims);
}

/** The client id from `client_id` (RFC 9068) or `azp` (OpenID). */
export function readClientId(claims: JWTPayload): string | undefined {
  return standardClaims.clientId(claims);
}
