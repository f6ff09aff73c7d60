import type { StdioUpstreamConfig } from '../../config/index.js';

/**
 * The child's whole environment, built explicitly: the configured variables,
 * the few inherited by name (PATH and the like, when the gateway has them)
 * and the shared secret. Nothing else of the gateway's environment leaks in,
 * so the gateway's own secrets (`UPSTREAM_SERVICE_TOKEN`, cloud credentials)
 * stay out of a third-party server's reach.
 */
export function buildChildEnvironment(
  upstream: Pick<StdioUpstreamConfig, 'env' | 'inheritEnv' | 'sharedSecret'>,
  gatewayEnvironment: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of upstream.inheritEnv) {
    const value = gatewayEnvironment[name];
    if (value !== undefined) environment[name] = value;
  }
  Object.assign(environment, upstream.env);
  if (upstream.sharedSecret) environment[upstream.sharedSecret.env] = upstream.sharedSecret.value;
  return environment;
}
