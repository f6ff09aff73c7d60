export { ACCESS_TOKEN_TYPE, createAccessTokenSigner, createLocalKeyResolver, type AccessTokenGrant, type AccessTokenSigner } from './access-tokens.js';
export {
  createAuthorizationServer,
  type AuthorizationServerDependencies,
  type AuthorizationServerFacade,
  type FacadeStores,
} from './authorization-server.js';
export { buildClientInformation, parseClientMetadata, type ClientGrantType, type ClientMetadata, type OAuthClient } from './client-metadata.js';
export { buildFacadeEndpoints, type FacadeEndpoints } from './endpoints.js';
export type { CodeEntry, CodeGrant } from './authorization-codes.js';
export type { LoginInProgress, PendingAuthorization } from './login-flow.js';
export { buildFacadeMetadata } from './metadata.js';
export { OAuthError, type OAuthErrorCode } from './oauth-error.js';
export { describeRedirectUriProblem, inferApplicationType, type ApplicationType } from './redirect-uri.js';
export {
  FileClientStore,
  FileRefreshTokenStore,
  MemoryEphemeralStore,
  type ClientStore,
  type EphemeralStore,
  type RefreshTokenFamily,
  type RefreshTokenStore,
  type RotationResult,
} from './store/index.js';
