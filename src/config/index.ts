export { ConfigError } from './config-error.js';
export { loadConfigFile, parseConfigText, validateConfig, type LoadConfigOptions } from './load-config.js';
export {
  gatewayConfigSchema,
  ASYMMETRIC_ALGORITHMS,
  type GatewayConfig,
  type GatewayConfigInput,
  type AuthorizationServerConfig,
  type IntrospectionConfig,
  type ApiKeyConfig,
  apiKeySchema,
  apiKeyDigest,
  type UpstreamConfig,
  type HttpUpstreamConfig,
  type HttpUpstreamConfigInput,
  type StdioUpstreamConfig,
  type LegacySseUpstreamConfig,
  type PolicyConfig,
  type AuditConfig,
  type MetricsConfig,
  type TracingConfig,
  type UpstreamCredentialConfig,
  type IdentityConfig,
  type AuthorizationServerFacadeConfig,
} from './schema.js';
export { facadeIssuer, isLoopbackHost, RESERVED_TOKEN_CLAIMS } from './authorization-server-schema.js';
export { identityHeaderNames } from './identity-schema.js';
export { substituteReferences, type SubstitutionSources } from './substitute.js';
export {
  formatKeyPath,
  formatSourceIssue,
  parseYamlSource,
  type SourceIssue,
  type SourceLocation,
  type YamlSource,
} from './yaml-source.js';
