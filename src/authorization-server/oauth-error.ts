/**
 * OAuth protocol errors of the facade: one type with the wire code, one table for the HTTP status,
 * and the two shapes RFC 6749 defines — a JSON body from the token and registration endpoints
 * (§5.2, RFC 7591 §3.2.2) and a redirect back to the client from the authorization endpoint
 * (§4.1.2.1, with `iss` per RFC 9207). `description` is fixed, client-safe text: it never carries
 * request data, tokens or secrets; `detail` is for the operator log only.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata';

const STATUS = {
  invalid_request: 400,
  // §5.2: 401 when the client tried to authenticate; every facade client is public, so a failed
  // client identification is reported the same way.
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
} as const satisfies Record<OAuthErrorCode, number>;

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly code: OAuthErrorCode;
  /** Client-facing text: fixed wording, no request data. */
  readonly description: string;
  /** Operator-facing detail for the log; never sent. */
  readonly detail: string | undefined;

  constructor(code: OAuthErrorCode, description: string, options: { detail?: string; cause?: unknown } = {}) {
    super(options.detail ?? description, { cause: options.cause });
    this.code = code;
    this.description = description;
    this.detail = options.detail;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

/** Anything thrown that is not an OAuthError is a server fault: described generically, never exposed. */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  return new OAuthError('server_error', 'The authorization server encountered an unexpected error', { cause: error });
}

/** Headers of every token, registration and error response (RFC 6749 §5.1: no caching of credentials). */
export const NO_STORE_HEADERS = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** RFC 6749 §5.2 body. */
export function buildErrorBody(error: OAuthError): string {
  return JSON.stringify({ error: error.code, error_description: error.description });
}

/**
 * RFC 6749 §4.1.2.1 / RFC 9207 §2: the client's registered redirect URI with `error`, `state` (when
 * the request had one) and `iss` added to its query, keeping any query it already has. Only ever
 * called with a redirect URI that was validated against the client's registration.
 */
export function buildRedirect(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(name, value);
  }
  return url.href;
}

export function buildErrorRedirect(redirectUri: string, error: OAuthError, state: string | undefined, issuer: string): string {
  return buildRedirect(redirectUri, { error: error.code, error_description: error.description, state, iss: issuer });
}
