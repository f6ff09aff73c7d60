import { GatewayError } from '../errors/index.js';

/** RFC 6750 §2.1 b64token (token68). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Upper bound on a token we are willing to hash and parse; real access tokens are a few KiB at most. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Extracts the bearer token from an `Authorization` header value, the only place
 * a token is accepted (RFC 6750 §2.1; query and body tokens are refused by the
 * MCP authorization spec).
 *
 * - no header, or another scheme (Basic, …) → `token_missing` (plain 401 challenge)
 * - `Bearer` with a malformed or oversized credential → `token_invalid` / `malformed`
 */
export function extractBearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new GatewayError('token_missing');
  const match = /^\s*([A-Za-z]+)(?:\s+(.*?))?\s*$/.exec(header);
  const scheme = match?.[1];
  if (!scheme || scheme.toLowerCase() !== 'bearer') {
    throw new GatewayError('token_missing', { detail: 'Authorization header uses another scheme than Bearer' });
  }
  const token = match[2];
  if (!token || token.length > MAX_TOKEN_LENGTH || !TOKEN68.test(token)) {
    throw new GatewayError('token_invalid', {
      tokenRejection: 'malformed',
      detail: 'Authorization: Bearer credential is not a token68 value',
    });
  }
  return token;
}

/**
 * True when the query string carries an `access_token` parameter (RFC 6750 §2.3), which is never
 * accepted. Names are compared decoded, as any server reads them: `access%5Ftoken` is the same
 * parameter, and the query string goes upstream as it came.
 */
export function hasQueryToken(search: string): boolean {
  // Without a `%`, decoding only turns `+` into a space, which cannot make up the name.
  if (!search.includes('access_token') && !search.includes('%')) return false;
  return new URLSearchParams(search).has('access_token');
}
