export { compileClaimTemplate, encodeHeaderValue, readClaim, type ClaimTemplate } from './claim-template.js';
export { createIdentityJwtSigner, IDENTITY_JWT_TYPE, type IdentityJwtOptions, type IdentityJwtSigner } from './identity-jwt.js';
export {
  createIdentityPropagation,
  IDENTITY_JWKS_PATH,
  type IdentityPropagation,
  type IdentityPropagationOptions,
} from './identity-propagation.js';
export { createKeyRing, loadKeyRing, type ConfiguredKey, type KeyRing, type KeyRingEntry } from './key-ring.js';
