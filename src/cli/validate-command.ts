import { ConfigError, loadConfigFile, type GatewayConfig, type UpstreamCredentialConfig } from '../config/index.js';
import { describeUpstream } from '../transports/index.js';
import type { CliIo } from './main.js';

/**
 * `validate`: load the config exactly as `serve` would and report. The summary
 * names what was understood but never a secret (credential values, shared
 * secrets, anything substituted from the environment or a file).
 */
export async function runValidate(configPath: string, io: CliIo): Promise<number> {
  try {
    const config = await loadConfigFile(configPath, { env: io.env });
    io.stdout.write(`${configPath}: valid\n${summarize(config)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${configPath}: invalid\n${error.message}\n`);
    return 1;
  }
}

function describeCredential(credential: UpstreamCredentialConfig | undefined): string {
  if (!credential) return 'none';
  if (credential.type === 'static') return `${credential.header}: <hidden>`;
  return `${credential.type} as client ${credential.clientId} at ${credential.issuer ?? credential.tokenEndpoint} (${credential.clientAuthentication})`;
}

function describeVerification(server: GatewayConfig['authorizationServers'][number]): string {
  const parts = [
    ...(server.introspection?.introspectJwts ? [] : [server.jwksUri ? `jwks ${server.jwksUri}` : 'jwks discovered']),
    ...(server.introspection ? [`introspection${server.introspection.introspectJwts ? ' only' : ''} as client ${server.introspection.clientId}`] : []),
  ];
  return ` (${parts.join('; ')})`;
}

function summarize(config: GatewayConfig): string {
  const { upstream } = config;
  const lines = [
    `  listen:     ${config.listen.host}:${config.listen.port}`,
    `  resource:   ${config.resource.url}`,
    ...config.authorizationServers.map((server) => `  issuer:     ${server.issuer}${describeVerification(server)}`),
    ...(config.apiKeys.length > 0 ? [`  api keys:   ${config.apiKeys.map((key) => key.name).join(', ')}`] : []),
    `  upstream:   ${describeUpstream(upstream)}`,
    `  credential: ${upstream.type === 'stdio' ? (upstream.sharedSecret ? `shared secret in $${upstream.sharedSecret.env}: <hidden>` : 'none') : describeCredential(upstream.credential)}`,
    ...(upstream.type === 'http' && upstream.tls?.clientCertificate ? ['  mTLS:       client certificate configured'] : []),
    ...Object.keys(config.identity.headers).map((name) => `  identity:   ${name}: ${config.identity.headers[name]}`),
    ...(config.identity.jwt ? [`  identity:   ${config.identity.jwt.header}: JWT signed by the gateway (${config.identity.jwt.keys.length} key(s))`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
