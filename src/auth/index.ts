export { API_KEY_ISSUER, API_KEY_PREFIX, createApiKeyVerifier, generateApiKey, type ApiKeyVerifier } from './api-keys.js';
export { canonicalAudience, createAudienceMatcher } from './audience.js';
export {
  buildClaimMapping,
  DEFAULT_CLAIM_MAPPING,
  type ClaimMapping,
  type ClaimMappingConfig,
  type ClaimSet,
} from './claim-mapping.js';
export {
  createClientAuthentication,
  type ApplyClientAuthentication,
  type ClientAuthenticationMethod,
  type ClientAuthenticationOptions,
} from './client-authentication.js';
export { extractBearerToken, hasQueryToken, MAX_TOKEN_LENGTH } from './bearer-header.js';
export { IntrospectionClient, type IntrospectionResponse, type IntrospectionState } from './introspection-client.js';
export { IssuerKeys, type IssuerKeysState } from './issuer-keys.js';
export type { IssuerState, IssuerStatus } from './issuer-verifier.js';
export {
  buildMetadataUrls,
  discoverJwksUri,
  loadIssuerMetadata,
  MetadataDiscoveryError,
  type FetchLike,
  type IssuerMetadata,
} from './issuer-metadata.js';
export { buildPrincipal, readClientId, readScopes, type AuthenticationMethod, type Principal } from './principal.js';
export { describeFetchError } from './retry-schedule.js';
export { SubjectToken } from './subject-token.js';
export { hashToken, TokenCache } from './token-cache.js';
export { createTokenVerifier, type LocalIssuer, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';
