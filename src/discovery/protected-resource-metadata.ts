import { facadeIssuer, type GatewayConfig } from '../config/index.js';

/** RFC 9728 §2 Protected Resource Metadata, as served by the gateway. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
  resource_documentation?: string;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Where the MCP endpoint is served: the resource URL's path, without a trailing slash. */
export function buildMcpPath(resourceUrl: string): string {
  const path = new URL(resourceUrl).pathname.replace(/\/+$/, '');
  return path === '' ? '/' : path;
}

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the
 * resource's path (`/.well-known/oauth-protected-resource/mcp` for `…/mcp`).
 * This is the first URL an MCP client tries, so it is the one we advertise.
 */
export function buildMetadataPath(resourceUrl: string): string {
  const mcpPath = buildMcpPath(resourceUrl);
  return mcpPath === '/' ? WELL_KNOWN : `${WELL_KNOWN}${mcpPath}`;
}

/** Absolute URL of the PRM document, built from the configured public URL (never from the Host header). */
export function buildMetadataUrl(resourceUrl: string): string {
  return `${new URL(resourceUrl).origin}${buildMetadataPath(resourceUrl)}`;
}

/**
 * The PRM document, built once at start-up. `scopesSupported` is the minimal
 * set for basic use; `offline_access` is refused by the config schema.
 */
export function buildProtectedResourceMetadata(
  config: Pick<GatewayConfig, 'resource' | 'authorizationServers' | 'authorizationServer'>,
  scopesSupported: readonly string[],
): ProtectedResourceMetadata {
  const { resource } = config;
  return {
    resource: resource.url,
    // With the facade, clients are pointed at it alone (an identity provider without registration
    // would be a dead end for them); other configured issuers' tokens are still accepted.
    authorization_servers: config.authorizationServer ? [facadeIssuer(config)!] : config.authorizationServers.map((server) => server.issuer),
    ...(scopesSupported.length > 0 ? { scopes_supported: [...scopesSupported] } : {}),
    bearer_methods_supported: ['header'],
    ...(resource.name ? { resource_name: resource.name } : {}),
    ...(resource.documentation ? { resource_documentation: resource.documentation } : {}),
  };
}
