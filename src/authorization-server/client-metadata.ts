import { OAuthError } from './oauth-error.js';
import { describeRedirectUriProblem, inferApplicationType, type ApplicationType } from './redirect-uri.js';

/** The grants a facade client may use. */
export type ClientGrantType = 'authorization_code' | 'refresh_token';

/** A client the facade knows, however it became known. Plain data: it is persisted for registered clients. */
export interface OAuthClient {
  clientId: string;
  /** `registered`: by dynamic registration (self-declared name); `metadata-document`: an https client id whose document was fetched. */
  kind: 'registered' | 'metadata-document';
  /** Self-declared display name, control characters removed. */
  clientName: string | undefined;
  redirectUris: string[];
  grantTypes: ClientGrantType[];
  applicationType: ApplicationType;
  /** Registration time, seconds since the epoch (registered clients). */
  issuedAt?: number;
}

/** The client metadata fields the facade uses (RFC 7591 §2), checked and normalised. */
export type ClientMetadata = Omit<OAuthClient, 'clientId' | 'kind' | 'issuedAt'>;

const MAX_REDIRECT_URIS = 10;
const MAX_NAME_LENGTH = 100;
/** Methods that rely on a shared secret: never for a client ID metadata document (CIMD §4.1), and the facade issues no secrets. */
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

function stringArray(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((entry): entry is string => typeof entry === 'string')) throw invalid(`${field} must be an array of strings`);
  return value;
}

/**
 * Reads the client metadata of a registration request or a client ID metadata document.
 * - `redirect_uris`: 1–10, each acceptable for the application type (see redirect-uri.ts);
 * - `application_type`: `web` or `native`; inferred from the redirect URIs when absent (MCP clients
 *   often omit it while registering loopback URIs, which OpenID's default `web` would refuse);
 * - `grant_types`: must include authorization_code; only authorization_code and refresh_token
 *   are kept (default: both, as the MCP SDK registers); `response_types`: only `code`;
 * - `token_endpoint_auth_method`: every facade client is public (`none`). A document may not
 *   declare another method (the facade cannot verify a private_key_jwt yet, and secrets are
 *   forbidden there); a registration asking for a secret method gets `none` instead (RFC 7591 §3.2.1
 *   lets the server replace values), which the response says.
 * @throws OAuthError invalid_client_metadata / invalid_redirect_uri
 */
export function parseClientMetadata(input: unknown, source: 'registration' | 'document'): ClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('client metadata must be a JSON object');
  const metadata = input as Record<string, unknown>;

  const redirectUris = stringArray(metadata.redirect_uris, 'redirect_uris');
  if (!redirectUris || redirectUris.length === 0) throw new OAuthError('invalid_redirect_uri', 'redirect_uris must list at least one redirect URI');
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new OAuthError('invalid_redirect_uri', `at most ${MAX_REDIRECT_URIS} redirect URIs`);

  const declaredType = metadata.application_type;
  if (declaredType !== undefined && declaredType !== 'web' && declaredType !== 'native') throw invalid('application_type must be web or native');
  const applicationType = declaredType ?? inferApplicationType(redirectUris);
  for (const uri of redirectUris) {
    const problem = describeRedirectUriProblem(uri, applicationType);
    if (problem) throw new OAuthError('invalid_redirect_uri', problem);
  }

  const grantTypes = stringArray(metadata.grant_types, 'grant_types') ?? ['authorization_code', 'refresh_token'];
  if (!grantTypes.includes('authorization_code')) throw invalid('grant_types must include authorization_code');
  const responseTypes = stringArray(metadata.response_types, 'response_types') ?? ['code'];
  if (responseTypes.some((type) => type !== 'code')) throw invalid('only the code response type is supported');

  const method = metadata.token_endpoint_auth_method;
  if (method !== undefined && typeof method !== 'string') throw invalid('token_endpoint_auth_method must be a string');
  if (source === 'document') {
    if (method !== undefined && method !== 'none') {
      throw invalid(SECRET_METHODS.has(method) ? 'a client ID metadata document cannot use a shared secret' : 'only public clients (token_endpoint_auth_method none) are supported');
    }
    if ('client_secret' in metadata || 'client_secret_expires_at' in metadata) throw invalid('a client ID metadata document must not contain a client secret');
  }

  const name = metadata.client_name;
  if (name !== undefined && typeof name !== 'string') throw invalid('client_name must be a string');
  // Shown on the consent page: no control or bidirectional-override characters, bounded length.
  const clientName = name?.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, MAX_NAME_LENGTH) || undefined;

  return {
    clientName,
    redirectUris,
    grantTypes: (['authorization_code', 'refresh_token'] as const).filter((grant) => grantTypes.includes(grant)),
    applicationType,
  };
}

/** The RFC 7591 §3.2.1 registration response for a registered client. */
export function buildClientInformation(client: OAuthClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    ...(client.issuedAt !== undefined ? { client_id_issued_at: client.issuedAt } : {}),
    ...(client.clientName ? { client_name: client.clientName } : {}),
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: client.applicationType,
  };
}
