import type { GatewayConfig } from '../config/index.js';
import type { CompiledPolicy } from '../policy/index.js';
import { buildProtectedResourceMetadata } from './protected-resource-metadata.js';

/** What discovery serves for one policy version: the PRM document and the 401 challenge scopes. */
export interface DiscoveryView {
  metadataJson: string;
  challengeScopes: readonly string[];
}

/**
 * The config's explicit scopes win; otherwise the policy's (settings, or what
 * its initialize and list rules require). Rebuilt when the policy changes, so
 * `scopes_supported` and the 401 scope follow a policy edit without a restart.
 */
export function buildDiscoveryView(config: Pick<GatewayConfig, 'resource' | 'authorizationServers' | 'authorizationServer'>, policy: CompiledPolicy): DiscoveryView {
  const challengeScopes = config.resource.challengeScopes ?? policy.challengeScopes;
  const scopesSupported = config.resource.scopesSupported ?? (config.resource.challengeScopes ? challengeScopes : policy.scopesSupported);
  return {
    metadataJson: JSON.stringify(buildProtectedResourceMetadata(config, scopesSupported)),
    challengeScopes,
  };
}
