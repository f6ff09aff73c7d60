import type { Hono } from 'hono';
import type { FetchLike, IssuerKeys, LocalIssuer } from '../auth/index.js';
import { facadeIssuer, type GatewayConfig } from '../config/index.js';
import type { GatewayEnv } from '../http/index.js';
import { loadKeyRing } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import { createAccessTokenSigner, createLocalKeyResolver } from './access-tokens.js';
import { createAddressLimiter } from './address-limit.js';
import { createAuthorizationCodes, type CodeEntry } from './authorization-codes.js';
import { createGuardedFetch, createHostPolicy, createMetadataDocumentClients } from './cimd/index.js';
import { createClientResolver } from './clients.js';
import { buildFacadeEndpoints } from './endpoints.js';
import { createIdentityProviderClient } from './identity-provider.js';
import { createLoginFlow, type LoginInProgress, type PendingAuthorization } from './login-flow.js';
import { buildFacadeMetadata } from './metadata.js';
import { createRegistration } from './registration.js';
import { mountFacadeRoutes } from './routes.js';
import { createTaggedSecrets } from './secrets.js';
import { FileClientStore, FileRefreshTokenStore, MemoryEphemeralStore, type ClientStore, type EphemeralStore, type RefreshTokenStore } from './store/index.js';
import { createTokenEndpoint } from './token-endpoint.js';

/**
 * Stores for several replicas (docs/as-facade.md). Each one given replaces the default: the
 * JSON-lines files in `authorizationServer.storage.directory` for clients and refresh tokens,
 * memory for the short-lived state (then use sticky sessions).
 */
export interface FacadeStores {
  clients?: ClientStore;
  refreshTokens?: RefreshTokenStore;
  pendingAuthorizations?: EphemeralStore<PendingAuthorization>;
  logins?: EphemeralStore<LoginInProgress>;
  codes?: EphemeralStore<CodeEntry>;
}

export interface AuthorizationServerDependencies {
  logger: Logger;
  /** fetch towards the identity provider (metadata, token, userinfo); injectable for tests. */
  fetch?: FetchLike | undefined;
  now?: (() => number) | undefined;
  stores?: FacadeStores | undefined;
}

export interface AuthorizationServerFacade {
  /** The issuer named in the protected resource metadata. */
  readonly issuer: string;
  /** How the gateway's token verifier checks the facade's tokens: with its keys, in memory. */
  readonly localIssuer: LocalIssuer;
  /** The identity provider's keys, for readiness. */
  readonly identityProviderKeys: IssuerKeys;
  /** Adds the facade's endpoints to the gateway's app. */
  mount(app: Hono<GatewayEnv>): void;
  start(): void;
  /** Stops background work and closes the stores (pending writes are flushed). */
  stop(): Promise<void>;
}

/** Bounds of the in-memory short-lived state (LRU): enough for thousands of logins in flight. */
const MAX_EPHEMERAL_ENTRIES = 10_000;

/**
 * The authorization server facade, built once from the config: keys parsed, metadata document
 * serialised, stores opened (a damaged store fails here, at start-up), identity provider client
 * prepared. Returns undefined when `authorizationServer` is not configured.
 */
export async function createAuthorizationServer(config: GatewayConfig, deps: AuthorizationServerDependencies): Promise<AuthorizationServerFacade | undefined> {
  const facade = config.authorizationServer;
  const issuer = facadeIssuer(config);
  if (!facade || !issuer) return undefined;
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const endpoints = buildFacadeEndpoints(issuer);

  const keyRing = loadKeyRing(facade.signingKeys, { retiredPublishMs: facade.retiredKeyPublishSeconds * 1000, now, configPath: 'authorizationServer.signingKeys' });
  const algorithms = [...new Set(keyRing.keys.map((key) => key.algorithm))];

  const cimd = facade.clientIdMetadataDocuments;
  if (cimd.insecureTestingLoopback) {
    logger.warn({ origins: cimd.insecureTestingLoopback.origins }, 'TESTING ONLY: client id metadata documents may be fetched from loopback for these origins; never use this in production');
  }
  const documentFetch = cimd.enabled
    ? createGuardedFetch({ timeoutMs: cimd.timeoutMs, maxBytes: cimd.maxBytes, insecureTestingLoopback: cimd.insecureTestingLoopback })
    : undefined;
  const documents = documentFetch
    ? createMetadataDocumentClients({
        fetch: documentFetch.fetch,
        hostPolicy: createHostPolicy(cimd),
        cacheMaxSeconds: cimd.cacheMaxSeconds,
        cacheMaxEntries: cimd.cacheMaxEntries,
        logger,
        now,
      })
    : undefined;

  const stores = deps.stores ?? {};
  const clientStore = stores.clients ?? (await FileClientStore.open(facade.storage.directory, logger));
  const refreshTokens = stores.refreshTokens ?? (await FileRefreshTokenStore.open(facade.storage.directory, logger, () => Math.floor(now() / 1000)));
  const ephemeral = <T extends object>() => new MemoryEphemeralStore<T>({ maxEntries: MAX_EPHEMERAL_ENTRIES, now });
  const secrets = createTaggedSecrets();

  const clients = createClientResolver({ store: clientStore, documents });
  const identityProvider = createIdentityProviderClient({ config: facade.identityProvider, redirectUri: endpoints.urls.callback, logger, fetch: deps.fetch, now });
  const codes = createAuthorizationCodes({ store: stores.codes ?? ephemeral<CodeEntry>(), ttlMs: facade.authorizationCodeTtlSeconds * 1000, secrets, logger });
  const flow = createLoginFlow({
    issuer,
    consentUrl: endpoints.urls.consent,
    rules: { clients, resourceUrl: config.resource.url, scopes: new Set(facade.scopes) },
    identityProvider,
    identityProviderHost: new URL(facade.identityProvider.issuer).host,
    codes,
    pending: stores.pendingAuthorizations ?? ephemeral<PendingAuthorization>(),
    logins: stores.logins ?? ephemeral<LoginInProgress>(),
    secrets,
    loginTimeoutMs: facade.loginTimeoutSeconds * 1000,
    resourceName: config.resource.name ?? new URL(config.resource.url).host,
    logger,
  });
  const tokens = createTokenEndpoint({
    clients,
    codes,
    refreshTokens,
    signer: createAccessTokenSigner({ issuer, keyRing, ttlSeconds: facade.accessTokenTtlSeconds, now }),
    refreshTokenTtlSeconds: facade.refreshTokenTtlSeconds,
    logger,
    now,
  });
  const registration = facade.dynamicRegistration.enabled
    ? createRegistration({ store: clientStore, maxClients: facade.dynamicRegistration.maxClients, logger, now })
    : undefined;
  const addressLimiter = createAddressLimiter({ ...facade.rateLimit, trustForwardedHeaders: config.listen.trustForwardedHeaders, now });
  const metadataJson = JSON.stringify(
    buildFacadeMetadata({
      endpoints,
      scopes: facade.scopes,
      dynamicRegistration: facade.dynamicRegistration.enabled,
      clientIdMetadataDocuments: cimd.enabled,
      refreshTokens: facade.refreshTokenTtlSeconds > 0,
      serviceDocumentation: config.resource.documentation,
    }),
  );

  return {
    issuer,
    localIssuer: {
      issuer,
      getKey: createLocalKeyResolver(keyRing),
      audiences: [config.resource.url],
      algorithms,
      clockToleranceSeconds: 30,
      requireAccessTokenType: true,
    },
    identityProviderKeys: identityProvider.keys,
    mount: (app) =>
      mountFacadeRoutes(app, {
        endpoints,
        metadataJson,
        keyRing,
        flow,
        tokens,
        registration,
        addressLimiter,
        logger,
      }),
    start: () => identityProvider.start(),
    async stop() {
      identityProvider.stop();
      await Promise.all([clientStore.close(), refreshTokens.close(), documentFetch?.close()]);
    },
  };
}
