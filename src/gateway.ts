import type { Hono } from 'hono';
import { createJwtVerifier, type FetchLike, type TokenVerifier } from './auth/index.js';
import type { GatewayConfig } from './config/index.js';
import { buildDiscoveryView, type DiscoveryView } from './discovery/index.js';
import { createApp, listen, type GatewayEnv, type ListeningServer } from './http/index.js';
import type { Logger } from './log/index.js';
import { ToolHeaderRegistry } from './mcp-headers/index.js';
import { PolicyStore } from './policy/index.js';
import { createForwarder, type Forwarder } from './proxy/index.js';

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
  policies: PolicyStore;
  /** Starts fetching keys, watching the policy, and listens. Resolves once the port is open (readiness may follow). */
  start(): Promise<ListeningServer>;
  /** Re-reads the policy directory (SIGHUP). Resolves true when a new policy is in force. */
  reloadPolicy(): Promise<boolean>;
  /** Drains (readiness goes false), stops listening, closes the upstream pool. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The composition root: everything derived from the config (verifier, policy,
 * metadata document, forwarder, app) is built here once, before the first
 * request. An invalid policy fails here, at start-up.
 *
 * @throws PolicyError when the policy directory is invalid
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<Gateway> {
  const verifier = createJwtVerifier({
    authorizationServers: config.authorizationServers,
    defaultAudiences: [config.resource.url],
    cache: config.tokenCache,
    logger: deps.logger,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const policies = await PolicyStore.create({
    directory: config.policy?.directory,
    watch: config.policy?.watch ?? false,
    pollIntervalMs: (config.policy?.pollIntervalSeconds ?? 0) * 1000,
    logger: deps.logger,
  });
  let discovery: DiscoveryView = buildDiscoveryView(config, policies.current);
  policies.onChange((policy) => {
    discovery = buildDiscoveryView(config, policy);
  });
  const forwarder: Forwarder = createForwarder({
    upstream: config.upstream,
    trustForwardedHeaders: config.listen.trustForwardedHeaders,
    publicUrl: config.resource.url,
  });
  let draining = false;
  const app = createApp({
    resourceUrl: config.resource.url,
    discovery: () => discovery,
    maxBodyBytes: config.limits.maxBodyBytes,
    verifier,
    policies,
    tools: new ToolHeaderRegistry(),
    forwarder,
    readiness: { issuers: verifier.issuers, isDraining: () => draining, policyStatus: () => policies.status },
    logger: deps.logger,
  });

  let listening: ListeningServer | undefined;
  let stopped: Promise<void> | undefined;
  return {
    app,
    verifier,
    policies,
    async start() {
      verifier.start();
      policies.start();
      listening = await listen(app, { host: config.listen.host, port: config.listen.port, logger: deps.logger });
      deps.logger.info(
        { address: listening.origin, resource: config.resource.url, upstream: config.upstream.url, policyVersion: policies.current.version },
        'gateway listening',
      );
      return listening;
    },
    reloadPolicy: () => policies.reload('SIGHUP'),
    stop() {
      // Idempotent: a second SIGTERM (or a test's cleanup) waits for the same drain.
      stopped ??= (async () => {
        draining = true;
        policies.stop();
        await listening?.close(config.shutdown.drainTimeoutMs);
        verifier.stop();
        await forwarder.close();
      })();
      return stopped;
    },
  };
}
