import type { JWTPayload } from 'jose';

/** How the caller proved who it is. */
export type AuthenticationMethod = 'jwt';

/** The authenticated caller, as the rest of the pipeline (policy, audit, forwarding) sees it. */
export interface Principal {
  issuer: string;
  /** The human (or service) the token speaks for: `sub`, else the client id. */
  subject: string;
  /** The agent: `client_id` (RFC 9068) or `azp` (OpenID). */
  clientId: string | undefined;
  scopes: ReadonlySet<string>;
  /** All claims of the verified token, for claim conditions and identity propagation. */
  claims: Readonly<JWTPayload>;
  /** Token expiry, seconds since the epoch. */
  expiresAt: number;
  /** A short, non-reversible token fingerprint for audit correlation (never the token). */
  tokenFingerprint: string;
  authenticationMethod: AuthenticationMethod;
}

/** Scopes from `scope` (space-separated, RFC 9068/8693) or `scp` (string or array: Entra, Okta). */
export function readScopes(claims: JWTPayload): Set<string> {
  const raw = claims.scope ?? claims.scp;
  const list = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : [];
  return new Set(list.filter((scope): scope is string => typeof scope === 'string' && scope !== ''));
}

export function readClientId(claims: JWTPayload): string | undefined {
  const value = claims.client_id ?? claims.azp;
  return typeof value === 'string' ? value : undefined;
}
