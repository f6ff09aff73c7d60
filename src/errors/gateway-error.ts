/**
 * The one error type of the gateway. Every failure that reaches a client is a
 * `GatewayError` with a stable `code`; `error-table.ts` maps each code to its HTTP
 * status, OAuth error and JSON-RPC code, and `error-response.ts` is the one place
 * that turns it into bytes on the wire.
 *
 * `detail` is for operators (logs, audit) and never leaves the process; the
 * client-facing text comes from the table or from `publicMessage`, which must not
 * contain data taken from the request (a token, a header value).
 */
export type GatewayErrorCode =
  | 'token_missing'
  | 'token_invalid'
  | 'token_in_query'
  | 'credentials_ambiguous'
  | 'insufficient_scope'
  | 'access_denied'
  | 'denied_in_band'
  | 'parse_error'
  | 'invalid_request'
  | 'header_mismatch'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'not_found'
  | 'forbidden_origin'
  | 'forbidden_host'
  | 'rate_limited'
  | 'too_many_streams'
  | 'session_not_found'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_auth_failed'
  | 'upstream_credential_unavailable'
  | 'upstream_credential_refused'
  | 'introspection_unavailable'
  | 'service_unavailable'
  | 'internal';

/** Why a presented token was refused; recorded in audit and metrics, never sent as prose to the client. */
export type TokenRejectionReason =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'unknown_key'
  | 'keys_unavailable'
  | 'algorithm_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'missing_claim'
  /** RFC 7662 introspection answered `active: false` (revoked, expired, unknown to the issuer). */
  | 'inactive'
  /** An opaque credential that matches no API key (and no issuer could be asked about it). */
  | 'unknown_api_key';

export interface GatewayErrorOptions {
  /** Client-safe description; defaults to the table's message. Never put request data here. */
  publicMessage?: string;
  /** Operator-facing detail for logs and audit; never sent to the client. */
  detail?: string;
  /** The underlying error, for logs only. */
  cause?: unknown;
  /** Why a token was rejected (for `token_invalid`). */
  tokenRejection?: TokenRejectionReason;
  /** Scopes to name in an `insufficient_scope` challenge. */
  requiredScopes?: readonly string[];
  /** Client-safe structured detail for the JSON-RPC error `data` (scope names, reasons; never request data). */
  data?: Record<string, unknown>;
  /** Extra response headers (e.g. `Allow` for 405). */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly publicMessage: string | undefined;
  readonly detail: string | undefined;
  readonly tokenRejection: TokenRejectionReason | undefined;
  readonly requiredScopes: readonly string[] | undefined;
  readonly data: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: GatewayErrorCode, options: GatewayErrorOptions = {}) {
    super(options.detail ?? options.publicMessage ?? code, { cause: options.cause });
    this.code = code;
    this.publicMessage = options.publicMessage;
    this.detail = options.detail;
    this.tokenRejection = options.tokenRejection;
    this.requiredScopes = options.requiredScopes;
    this.data = options.data;
    this.headers = options.headers;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
