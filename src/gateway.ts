import type { Hono } from 'hono';
import { createJwtVerifier, type FetchLike, type TokenVerifier } from './auth/index.js';
import type { GatewayConfig } from './config/index.js';
import { buildProtectedResourceMetadata } from './discovery/index.js';
import { createApp, listen, type GatewayEnv, type ListeningServer } from './http/index.js';
import type { Logger } from './log/index.js';
import { createForwarder, type Forwarder } from './proxy/index.js';
import { createUpstreamAuth, type UpstreamAuth } from './upstream-auth/index.js';

export interface GatewayDependencies {
  logger: Logger;
  /** fetch used for JWKS and metadata; injectable for tests. */
  fetch?: FetchLike;
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
}

export interface Gateway {
  app: Hono<GatewayEnv>;
  verifier: TokenVerifier;
  /** The gateway's credential and identity towards the upstream. */
  upstreamAuth: UpstreamAuth;
  /**
   * Checks the upstream credential (rejects with a ConfigError when the authorization server
   * says it is misconfigured), starts fetching keys and listens. Resolves once the port is open
   * (readiness may follow).
   */
  start(): Promise<ListeningServer>;
  /** Drains (readiness goes false), stops listening, closes the upstream pool. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The composition root: everything derived from the config (verifier, metadata
 * document, forwarder, app) is built here once, before the first request.
 */
export function createGateway(config: GatewayConfig, deps: GatewayDependencies): Gateway {
  const verifier = createJwtVerifier({
    authorizationServers: config.authorizationServers,
    defaultAudiences: [config.resource.url],
    cache: config.tokenCache,
    logger: deps.logger,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const upstreamAuth = createUpstreamAuth(config, {
    logger: deps.logger,
    fetch: deps.fetch,
    now: deps.now,
  });
  const forwarder: Forwarder = createForwarder({
    upstream: config.upstream,
    trustForwardedHeaders: config.listen.trustForwardedHeaders,
    publicUrl: config.resource.url,
    auth: upstreamAuth,
  });
  const challengeScopes = config.resource.challengeScopes;
  const metadata = buildProtectedResourceMetadata(config, config.resource.scopesSupported ?? challengeScopes);
  let draining = false;
  const app = createApp({
    resourceUrl: config.resource.url,
    metadata,
    challengeScopes,
    maxBodyBytes: config.limits.maxBodyBytes,
    verifier,
    forwarder,
    upstreamAuth,
    readiness: { issuers: verifier.issuers, isDraining: () => draining, upstreamAuth },
    logger: deps.logger,
  });

  let listening: ListeningServer | undefined;
  let stopped: Promise<void> | undefined;
  return {
    app,
    verifier,
    upstreamAuth,
    async start() {
      // Before listening: a misconfigured credential stops start-up here (`stop()` still cleans up).
      await upstreamAuth.start();
      verifier.start();
      listening = await listen(app, { host: config.listen.host, port: config.listen.port, logger: deps.logger });
      deps.logger.info({ address: listening.origin, resource: config.resource.url, upstream: config.upstream.url }, 'gateway listening');
      return listening;
    },
    stop() {
      // Idempotent: a second SIGTERM (or a test's cleanup) waits for the same drain.
      stopped ??= (async () => {
        draining = true;
        await listening?.close(config.shutdown.drainTimeoutMs);
        verifier.stop();
        upstreamAuth.stop();
        await forwarder.close();
      })();
      return stopped;
    },
  };
}
