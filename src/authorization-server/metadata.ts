import type { FacadeEndpoints } from './endpoints.js';

export interface FacadeMetadataOptions {
  endpoints: FacadeEndpoints;
  scopes: readonly string[];
  dynamicRegistration: boolean;
  clientIdMetadataDocuments: boolean;
  /** Whether refresh tokens are issued (refreshTokenTtlSeconds > 0). */
  refreshTokens: boolean;
  serviceDocumentation?: string | undefined;
}

/**
 * The RFC 8414 authorization server metadata, built once at start-up. What MCP clients look for:
 * `code` + PKCE `S256` (they refuse to proceed without code_challenge_methods_supported),
 * `client_id_metadata_document_supported` (CIMD), a `registration_endpoint` (the SDK 1.x client
 * throws without one unless it uses CIMD), RFC 9207 `iss` in authorization responses, public
 * clients (`none`). The `issuer` is exactly the string the protected resource metadata names.
 */
export function buildFacadeMetadata(options: FacadeMetadataOptions): Record<string, unknown> {
  const { endpoints } = options;
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.urls.authorize,
    token_endpoint: endpoints.urls.token,
    ...(options.dynamicRegistration ? { registration_endpoint: endpoints.urls.register } : {}),
    revocation_endpoint: endpoints.urls.revoke,
    jwks_uri: endpoints.urls.jwks,
    scopes_supported: [...options.scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: options.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    client_id_metadata_document_supported: options.clientIdMetadataDocuments,
    authorization_response_iss_parameter_supported: true,
    ...(options.serviceDocumentation ? { service_documentation: options.serviceDocumentation } : {}),
  };
}
