import { extractBearerToken, hashToken, hasQueryToken, SubjectToken, type Principal, type TokenVerifier } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import { readHeader, readSearch, type McpExchange } from './exchange.js';

/**
 * Authenticates every request to the MCP endpoint from its `Authorization`
 * header, and only from there. A token in the query string is refused: alone it
 * counts as no token (the challenge says where to put it), next to a header it is
 * a malformed request (RFC 6750 §2: one method only). Sessions are never
 * authentication: every request is verified (the verified-token cache makes that cheap).
 */
export async function authenticate(exchange: McpExchange, verifier: TokenVerifier): Promise<Principal> {
  const header = readHeader(exchange, 'authorization');
  if (countHeader(exchange.incoming.rawHeaders, 'authorization') > 1) {
    // Node keeps the first of repeated Authorization headers; a proxy in front may keep
    // the last. Two parties reading different credentials is how bypasses start: refuse.
    throw new GatewayError('credentials_ambiguous', { detail: 'repeated Authorization header' });
  }
  if (hasQueryToken(readSearch(exchange))) {
    throw new GatewayError(header === undefined ? 'token_missing' : 'token_in_query', {
      detail: 'access_token in the query string',
    });
  }
  const token = extractBearerToken(header);
  const { observation } = exchange;
  let principal: Principal;
  try {
    principal = await observation.trace.span('mcp.authenticate', () => verifier.verify(token));
  } catch (error) {
    // The audit record may correlate refused tokens by fingerprint; the token itself goes nowhere.
    observation.refusedTokenFingerprint = hashToken(token).slice(0, 12);
    throw error;
  }
  exchange.principal = principal;
  // An API key is never a subject token: it must not leave the gateway, not even for token exchange.
  if (principal.authenticationMethod !== 'api_key') exchange.subjectToken = new SubjectToken(token);
  return principal;
}

function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.length === name.length && rawHeaders[index]!.toLowerCase() === name) count += 1;
  }
  return count;
}
