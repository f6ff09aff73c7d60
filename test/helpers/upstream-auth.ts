/**
 * Stack settings for the upstream-identity tests: the upstream is a resource of the demo AS and
 * accepts only bearer JWTs the AS issued for it; the gateway is a confidential client of the AS.
 */
import type { GatewayConfigInput, HttpUpstreamConfigInput } from '../../src/config/index.js';
import type { ClientMetadata, DemoAuthorizationServerOptions } from '../../src/demo/authorization-server.js';
import type { DemoUpstreamOptions } from '../../src/demo/upstream-server.js';
import type { StackOptions, StackUrls } from './stack.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GATEWAY_CLIENT = { client_id: 'mcp-gateway', client_secret: 'gateway-secret-0123456789abcdef0123' };
export const UPSTREAM_SCOPES = ['tickets:read', 'tickets:write'];

/** A confidential client registered for client credentials and token exchange (no redirects). */
export function confidentialClient(metadata: Partial<ClientMetadata> & { client_id: string }): ClientMetadata {
  return { grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], response_types: [], redirect_uris: [], ...metadata };
}

export interface UpstreamAuthStackOptions {
  clients?: ClientMetadata[];
  /** Lifetime of tokens for the upstream, in seconds. */
  upstreamTokenTtlSeconds?: number;
  /** The audience the upstream accepts; default its own URL. */
  upstreamAudience?: (urls: StackUrls) => string;
  upstream?: (urls: StackUrls) => Partial<DemoUpstreamOptions>;
  credential: (urls: StackUrls & { issuer: string }) => NonNullable<HttpUpstreamConfigInput['credential']>;
  config?: (config: GatewayConfigInput) => GatewayConfigInput;
}

/** Stack options: AS with the upstream as a resource and the gateway's client(s); upstream requiring AS-issued JWTs. */
export function upstreamAuthStack(options: UpstreamAuthStackOptions): StackOptions {
  return {
    as: (urls): Partial<DemoAuthorizationServerOptions> => ({
      resources: [
        { resource: urls.mcpUrl, scopes: ['tickets:read', 'tickets:write', 'admin'] },
        { resource: 'http://127.0.0.1:1/other-service', scopes: ['tickets:read'] },
        { resource: urls.upstreamUrl, scopes: UPSTREAM_SCOPES, ...(options.upstreamTokenTtlSeconds ? { accessTokenTtlSeconds: options.upstreamTokenTtlSeconds } : {}) },
      ],
      clients: options.clients ?? [confidentialClient(GATEWAY_CLIENT)],
      tokenExchange: [{ clientId: GATEWAY_CLIENT.client_id, subjectAudiences: [urls.mcpUrl] }],
    }),
    upstream: ({ as, ...urls }) => ({
      requiredCredential: undefined,
      requireBearerJwt: { issuer: as.issuer, jwksUri: as.jwksUri, audience: options.upstreamAudience?.(urls) ?? urls.upstreamUrl },
      ...options.upstream?.(urls),
    }),
    config: (config, { as, ...urls }) => {
      const changed = { ...config, upstream: { ...config.upstream, credential: options.credential({ ...urls, issuer: as.issuer }) } };
      return options.config ? options.config(changed) : changed;
    },
  };
}
