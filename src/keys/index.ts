export {
  allowedAlgorithms,
  describeKeyProblem,
  jwkThumbprint,
  loadSigningKey,
  parsePrivateKey,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKey,
} from './private-key.js';
