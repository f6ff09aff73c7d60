import type { GatewayErrorCode } from './gateway-error.js';

export interface ErrorMapping {
  status: number;
  /** RFC 6750 error code for the `WWW-Authenticate` challenge, when the error is an auth failure. */
  oauthError?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** Whether a `WWW-Authenticate: Bearer` challenge accompanies the response. */
  challenge: boolean;
  /** JSON-RPC 2.0 error code used in bodies on the MCP endpoint. */
  jsonRpcCode: number;
  /** Default client-facing message: fixed text, free of `"` and `=` so naive challenge parsers cope. */
  message: string;
}

/**
 * JSON-RPC codes: -32700/-32600/-32603 are JSON-RPC 2.0's own; -32020 is the
 * 2026-07-28 MCP `HeaderMismatch`; -32001 is used for authentication and
 * authorization failures (implementation-defined server error range, as the
 * MCP SDK does for its own auth errors).
 */
export const ERROR_TABLE = {
  token_missing: { status: 401, challenge: true, jsonRpcCode: -32001, message: 'Authentication required' },
  token_invalid: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    jsonRpcCode: -32001,
    message: 'The access token is invalid',
  },
  token_in_query: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    jsonRpcCode: -32600,
    message: 'Access tokens are accepted only in the Authorization header',
  },
  credentials_ambiguous: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    jsonRpcCode: -32600,
    message: 'Send exactly one Authorization header',
  },
  insufficient_scope: {
    status: 403,
    oauthError: 'insufficient_scope',
    challenge: true,
    jsonRpcCode: -32001,
    message: 'The access token lacks a required scope',
  },
  access_denied: {
    status: 403,
    challenge: false,
    jsonRpcCode: -32001,
    message: 'The gateway policy does not allow this call',
  },
  // For clients that mishandle step-up: a JSON-RPC error in an HTTP 200.
  denied_in_band: {
    status: 200,
    challenge: false,
    jsonRpcCode: -32001,
    message: 'The gateway policy does not allow this call',
  },
  parse_error: { status: 400, challenge: false, jsonRpcCode: -32700, message: 'Parse error' },
  invalid_request: { status: 400, challenge: false, jsonRpcCode: -32600, message: 'Invalid request' },
  header_mismatch: {
    status: 400,
    challenge: false,
    jsonRpcCode: -32020,
    message: 'Request headers do not match the request body',
  },
  body_too_large: { status: 413, challenge: false, jsonRpcCode: -32600, message: 'Request body too large' },
  unsupported_media_type: {
    status: 415,
    challenge: false,
    jsonRpcCode: -32600,
    message: 'Content-Type must be application/json',
  },
  method_not_allowed: { status: 405, challenge: false, jsonRpcCode: -32600, message: 'Method not allowed' },
  not_found: { status: 404, challenge: false, jsonRpcCode: -32600, message: 'Not found' },
  forbidden_origin: { status: 403, challenge: false, jsonRpcCode: -32600, message: 'Origin not allowed' },
  forbidden_host: { status: 403, challenge: false, jsonRpcCode: -32600, message: 'Host not allowed' },
  rate_limited: { status: 429, challenge: false, jsonRpcCode: -32000, message: 'Too many requests' },
  too_many_streams: { status: 429, challenge: false, jsonRpcCode: -32000, message: 'Too many open streams' },
  // As for a session the upstream does not know (2025-11-25 transport: 404 → start a new session).
  session_not_found: { status: 404, challenge: false, jsonRpcCode: -32001, message: 'Session not found' },
  upstream_unreachable: {
    status: 502,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The upstream MCP server is unreachable',
  },
  upstream_timeout: {
    status: 504,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The upstream MCP server did not answer in time',
  },
  upstream_auth_failed: {
    status: 502,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The upstream MCP server refused the gateway credential',
  },
  // The authorization server that issues the gateway's upstream credential (client credentials,
  // token exchange) could not be reached or answered 5xx: transient, the client may retry.
  upstream_credential_unavailable: {
    status: 503,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The credential for the upstream MCP server cannot be obtained right now',
  },
  // The authorization server answered with an OAuth error (e.g. it refused the token exchange).
  upstream_credential_refused: {
    status: 502,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The authorization server refused the credential for the upstream MCP server',
  },
  // An opaque token could not be checked: the issuer's introspection endpoint is unreachable,
  // timed out, answered 5xx or refused the gateway's client credentials. Fail closed: the token is
  // neither accepted nor called invalid (a 401 would make clients throw away a good token).
  introspection_unavailable: {
    status: 503,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The access token cannot be verified right now',
  },
  service_unavailable: {
    status: 503,
    challenge: false,
    jsonRpcCode: -32603,
    message: 'The gateway is temporarily unavailable',
  },
  internal: { status: 500, challenge: false, jsonRpcCode: -32603, message: 'Internal error' },
} as const satisfies Record<GatewayErrorCode, ErrorMapping>;

export function mappingFor(code: GatewayErrorCode): ErrorMapping {
  return ERROR_TABLE[code];
}
