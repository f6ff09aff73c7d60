import { setTimeout as delay } from 'node:timers/promises';
import { Hono } from 'hono';
import { AuditLog, createRedactor, ScopeElevationTracker, type AuditSink } from './audit/index.js';
import { createTokenVerifier, type FetchLike, type TokenVerifier } from './auth/index.js';
import type { GatewayConfig } from './config/index.js';
import { buildDiscoveryView, buildMcpPath, buildMetadataUrl, type DiscoveryView } from './discovery/index.js';
import { createApp, createMcpEndpoint, listen, mountOperations, type GatewayEnv, type ListeningServer } from './http/index.js';
import type { Logger } from './log/index.js';
import { ToolHeaderRegistry } from './mcp-headers/index.js';
import { GatewayMetrics } from './metrics/index.js';
import { PolicyStore } from './policy/index.js';
import type { Forwarder } from './proxy/index.js';
import { OtlpExporter } from './tracing/index.js';
import { buildOriginPolicy } from './http/browser-safety.js';
import { RateLimiter, StreamCounter } from './limits/index.js';
import { SessionBinding } from './sessions/index.js';
import { createUpstreamForwarder, describeUpstream } from './transports/index.js';
import { createUpstreamAuth, type UpstreamAuth } from './upstream-auth/index.js';
import type { AuthorizationServerFacade, FacadeStores } from './authorization-server/index.js';

export interface GatewayDependencies {
  logger: Logger;
  /** fetch used for JWKS and metadata; injectable for tests. */
  fetch?: FetchLike;
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  /** Where audit records go, overriding the config (tests). */
  auditSink?: AuditSink;
  /** Shared stores for the authorization server facade when several replicas run (docs/as-facade.md). */
  authorizationServerStores?: FacadeStores;
  /** The gateway's environment, from which a stdio upstream inherits `upstream.inheritEnv`; default process.env. */
  environment?: Readonly<Record<string, string | undefined>>;
}

export interface Gateway {
  app: Hono<GatewayEnv>;
  verifier: TokenVerifier;
  policies: PolicyStore;
  metrics: GatewayMetrics | undefined;
  audit: AuditLog | undefined;
  /** The gateway's credential and identity towards the upstream. */
  upstreamAuth: UpstreamAuth;
  /** The authorization server facade, when `authorizationServer` is configured. */
  authorizationServer: AuthorizationServerFacade | undefined;
  /**
   * Checks the upstream credential (rejects with a ConfigError when the authorization server
   * says it is misconfigured), starts fetching keys, watching the policy, and listens. Resolves
   * once the port is open (readiness may follow).
   */
  start(): Promise<ListeningServer>;
  /** The admin server (metrics.port), once started. */
  readonly admin: ListeningServer | undefined;
  /** Re-reads the policy directory (SIGHUP). Resolves true when a new policy is in force. */
  reloadPolicy(): Promise<boolean>;
  /** Writes buffered audit records out now (fatal errors call this). */
  flushAudit(): void;
  /**
   * Readiness goes false; after `shutdown.lameDuckMs` (still serving) stops listening, lets
   * in-flight requests finish for up to `shutdown.drainTimeoutMs`, flushes the audit trail,
   * closes the upstream pool (stops stdio children). Safe to call twice.
   */
  stop(): Promise<void>;
}

/** Largest list response (JSON body or SSE event) held in memory for filtering. */
const MAX_LIST_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The composition root: everything derived from the config (verifier, policy,
 * metadata document, forwarder, audit, metrics, app) is built here once,
 * before the first request. An invalid policy fails here, at start-up.
 *
 * @throws PolicyError when the policy directory is invalid
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<Gateway> {
  const metrics = config.metrics.enabled ? new GatewayMetrics() : undefined;
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
  if (metrics) {
    metrics.setPolicy(policies.current.version, false);
    policies.onReload((result) => {
      metrics.policyReloads.inc({ result });
      metrics.setPolicy(policies.current.version, result === 'failure');
    });
  }

  const audit = config.audit.enabled
    ? new AuditLog(deps.auditSink ?? (config.audit.sink === 'file' ? { type: 'file', path: config.audit.file! } : { type: 'stdout' }), config.audit.write)
    : undefined;
  const redactArguments = config.audit.includeArguments
    ? createRedactor({ keys: config.audit.redactKeys, paths: config.audit.redactPaths, maxBytes: config.audit.maxArgumentBytes })
    : undefined;
  const exporter = config.tracing.otlpEndpoint
    ? new OtlpExporter({ endpoint: config.tracing.otlpEndpoint, serviceName: config.tracing.serviceName, headers: config.tracing.headers, logger: deps.logger })
    : undefined;

  const upstreamAuth = createUpstreamAuth(config, {
    logger: deps.logger,
    fetch: deps.fetch,
    now: deps.now,
  });
  const forwarder: Forwarder = await createUpstreamForwarder(config.upstream, {
    trustForwardedHeaders: config.listen.trustForwardedHeaders,
    publicUrl: config.resource.url,
    auth: upstreamAuth,
    logger: deps.logger,
    environment: deps.environment ?? process.env,
  });
  // Last of what can fail at start-up (it opens its stores), so nothing before it is left open.
  // Loaded only when configured (start-up time: docs/performance.md).
  const facadeModule = config.authorizationServer ? await import('./authorization-server/index.js') : undefined;
  const authorizationServer = await facadeModule?.createAuthorizationServer(config, {
    logger: deps.logger,
    fetch: deps.fetch,
    now: deps.now,
    stores: deps.authorizationServerStores,
  });
  const verifier = createTokenVerifier({
    authorizationServers: config.authorizationServers,
    apiKeys: config.apiKeys,
    defaultAudiences: [config.resource.url],
    cache: config.tokenCache,
    logger: deps.logger,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(metrics ? { onKeysRefreshed: (issuer: string, ok: boolean) => metrics.jwksRefreshes.inc({ issuer, result: ok ? 'success' : 'failure' }) } : {}),
    ...(authorizationServer ? { localIssuers: [authorizationServer.localIssuer] } : {}),
  });
  if (config.sessions.bind && config.sessions.bindingSecrets.length === 0) deps.logger.warn(SessionBinding.ephemeralWarning);
  const sessions = config.sessions.bind ? new SessionBinding(config.sessions.bindingSecrets) : undefined;
  let draining = false;
  const issuers = authorizationServer ? [...verifier.issuers, authorizationServer.identityProviderKeys] : verifier.issuers;
  const readiness = { issuers, isDraining: () => draining, policyStatus: () => policies.status, upstreamAuth };
  const separateAdmin = config.metrics.port !== undefined;
  const origins = buildOriginPolicy(config.security.allowedOrigins ?? [new URL(config.resource.url).origin], config.security.allowedHosts);
  const tools = new ToolHeaderRegistry();
  const mcpEndpoint = createMcpEndpoint({
    resourceMetadataUrl: buildMetadataUrl(config.resource.url),
    discovery: () => discovery,
    limits: config.limits,
    origins,
    rateLimiter: config.limits.rateLimit.enabled ? new RateLimiter(config.limits.rateLimit) : undefined,
    streams: new StreamCounter(config.limits.maxStreamsPerPrincipal),
    sessions,
    verifier,
    policies,
    tools,
    forward: {
      forwarder,
      sessions,
      sse: { keepAliveMs: config.limits.sseKeepAliveSeconds * 1000, idleTimeoutMs: config.limits.sseIdleTimeoutSeconds * 1000 },
      upstreamAuth,
      tools,
      maxListResponseBytes: MAX_LIST_RESPONSE_BYTES,
      metrics,
      logger: deps.logger,
    },
    observability: {
      audit,
      redactArguments,
      metrics,
      exporter,
      sampleRatio: config.tracing.sampleRatio,
      elevation: new ScopeElevationTracker(),
      logger: deps.logger,
    },
    logger: deps.logger,
  });
  const app = createApp({
    resourceUrl: config.resource.url,
    discovery: () => discovery,
    origins,
    mcpEndpoint,
    upstreamAuth,
    authorizationServer,
    readiness,
    metrics,
    // /healthz and /readyz stay on the main port unless an admin port takes them, metrics or not.
    operations: !separateAdmin,
    metricsPath: separateAdmin ? undefined : config.metrics.enabled ? config.metrics.path : undefined,
    logger: deps.logger,
  });

  let listening: ListeningServer | undefined;
  let admin: ListeningServer | undefined;
  let stopped: Promise<void> | undefined;
  return {
    app,
    verifier,
    policies,
    metrics,
    audit,
    authorizationServer,
    get admin() {
      return admin;
    },
    upstreamAuth,
    async start() {
      // Before listening: a misconfigured credential stops start-up here (`stop()` still cleans up).
      await upstreamAuth.start();
      verifier.start();
      authorizationServer?.start();
      policies.start();
      listening = await listen(app, {
        host: config.listen.host,
        port: config.listen.port,
        logger: deps.logger,
        limits: config.limits,
        mcp: { path: buildMcpPath(config.resource.url), endpoint: mcpEndpoint },
      });
      if (separateAdmin) {
        const adminApp = new Hono<GatewayEnv>();
        mountOperations(adminApp, readiness, metrics, config.metrics.enabled ? config.metrics.path : undefined);
        admin = await listen(adminApp, { host: config.metrics.host, port: config.metrics.port!, logger: deps.logger });
      }
      deps.logger.info(
        {
          address: listening.origin,
          ...(admin ? { admin: admin.origin } : {}),
          resource: config.resource.url,
          upstream: describeUpstream(config.upstream),
          policyVersion: policies.current.version,
        },
        'gateway listening',
      );
      return listening;
    },
    reloadPolicy: () => policies.reload('SIGHUP'),
    flushAudit: () => audit?.flush(),
    stop() {
      // Idempotent: a second SIGTERM (or a test's cleanup) waits for the same drain.
      stopped ??= (async () => {
        draining = true;
        policies.stop();
        // Lame duck: keep accepting while /readyz answers 503, because endpoint removal in
        // Kubernetes races the SIGTERM; closing at once would refuse requests still routed here.
        if (listening && config.shutdown.lameDuckMs > 0) await delay(config.shutdown.lameDuckMs);
        await listening?.close(config.shutdown.drainTimeoutMs);
        // Every answered request has written its record by now; put them on disk.
        audit?.flush();
        await admin?.close(0);
        verifier.stop();
        upstreamAuth.stop();
        await Promise.all([forwarder.close(), exporter?.shutdown(), authorizationServer?.stop()]);
      })();
      return stopped;
    },
  };
}
