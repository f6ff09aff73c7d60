export type {
  AppliedCredential,
  CredentialState,
  ServiceCredential,
  ServiceIdentity,
  UpstreamCaller,
} from './service-credential.js';
export { TokenEndpointError, type IssuedToken } from './token-endpoint.js';
export { TokenSlot } from './token-slot.js';
export {
  createUpstreamAuth,
  type CallIdentities,
  type PreparedUpstreamAuth,
  type UpstreamAuth,
  type UpstreamAuthDependencies,
} from './upstream-auth.js';
