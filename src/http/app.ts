import { Hono, type Context } from 'hono';
import type { TokenVerifier } from '../auth/index.js';
import { buildMcpPath, buildMetadataPath, buildMetadataUrl, type DiscoveryView } from '../discovery/index.js';
import { buildErrorResponse, GatewayError, type ErrorResponseContext } from '../errors/index.js';
import { IDENTITY_JWKS_PATH } from '../identity/index.js';
import { idForErrorReply } from '../jsonrpc/index.js';
import type { Logger } from '../log/index.js';
import type { GatewayMetrics } from '../metrics/index.js';
import type { ToolHeaderRegistry } from '../mcp-headers/index.js';
import type { PolicyStore } from '../policy/index.js';
import type { Forwarder } from '../proxy/index.js';
import type { UpstreamAuth } from '../upstream-auth/index.js';
import type { GatewayEnv } from './context.js';
import { buildReadiness, type ReadinessSource } from './health.js';
import { createJwksEndpoint } from './jwks-endpoint.js';
import { createAuthenticate } from './middleware/authenticate.js';
import { createAuthorize } from './middleware/authorize.js';
import { createForward } from './middleware/forward.js';
import { createObserve, type ObservabilityDependencies } from './middleware/observe.js';
import { createReadJsonRpc } from './middleware/read-json-rpc.js';
import { createRateLimit, createStreamCap } from './middleware/abuse-limits.js';
import { createHostGuard, createOriginGuard, createPreflight } from './middleware/browser-guard.js';
import { createSessionCheck } from './middleware/session-binding.js';
import type { OriginPolicy } from './browser-safety.js';
import type { GatewayConfig } from '../config/index.js';
import type { RateLimiter, StreamCounter } from '../limits/index.js';
import type { SessionBinding } from '../sessions/index.js';

export interface AppDependencies {
  resourceUrl: string;
  /** The PRM document and 401 scopes for the policy in force (they follow policy reloads). */
  discovery: () => DiscoveryView;
  limits: Pick<GatewayConfig['limits'], 'maxBodyBytes' | 'maxBatchLength' | 'maxJsonDepth' | 'sseKeepAliveSeconds' | 'sseIdleTimeoutSeconds'>;
  /** Origins and hosts allowed (browser safety). */
  origins: OriginPolicy;
  rateLimiter: RateLimiter | undefined;
  streams: StreamCounter;
  /** Session binding; undefined passes session ids through unchanged. */
  sessions: SessionBinding | undefined;
  verifier: TokenVerifier;
  policies: PolicyStore;
  tools: ToolHeaderRegistry;
  forwarder: Forwarder;
  /** Names the identities of each forwarded call; serves the identity-JWT keys when configured. */
  upstreamAuth?: Pick<UpstreamAuth, 'describe' | 'identity'>;
  readiness: ReadinessSource;
  /** Audit, metrics and tracing. */
  observability: ObservabilityDependencies;
  /** Serve /healthz and /readyz on this app (false when an admin port serves them). */
  operations: boolean;
  /** Serve /metrics on this app at this path (undefined when disabled or on the admin port). */
  metricsPath: string | undefined;
  logger: Logger;
}

const MCP_METHODS = ['POST', 'GET', 'DELETE'];
/** Called by probes by pod IP, so exempt from the Host allow-list. */
const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

/**
 * The gateway's HTTP surface. The MCP endpoint's pipeline reads top to bottom:
 * observe (audit, metrics, trace) → Origin → authenticate → rate limit → read
 * and parse the JSON-RPC body → authorize → stream cap → session binding →
 * forward. Every failure is a `GatewayError` turned into a response in one
 * place (`onError`).
 */
export function createApp(deps: AppDependencies): Hono<GatewayEnv> {
  const mcpPath = buildMcpPath(deps.resourceUrl);
  const metadataPath = buildMetadataPath(deps.resourceUrl);
  const resourceMetadataUrl = buildMetadataUrl(deps.resourceUrl);

  // strict: false → `/mcp` and `/mcp/` are the same endpoint.
  const app = new Hono<GatewayEnv>({ strict: false });
  if (deps.origins.allowedHosts) app.use('*', createHostGuard(deps.origins, HEALTH_PATHS));

  if (deps.operations) mountOperations(app, deps.readiness, deps.observability.metrics, deps.metricsPath);

  // RFC 9728 discovery: a document prepared per policy version (never a 5xx),
  // readable from any origin so browser-based clients can discover us.
  app.on(['GET', 'OPTIONS'], metadataPath, function protectedResourceMetadata(c) {
    c.header('access-control-allow-origin', '*');
    if (c.req.method === 'OPTIONS') {
      c.header('access-control-allow-methods', 'GET, OPTIONS');
      c.header('access-control-allow-headers', '*');
      return c.body(null, 204);
    }
    c.header('cache-control', 'public, max-age=300');
    return c.body(deps.discovery().metadataJson, 200, { 'content-type': 'application/json' });
  });

  const identityKeys = deps.upstreamAuth?.identity.keyRing;
  if (identityKeys) app.on(['GET', 'OPTIONS'], IDENTITY_JWKS_PATH, createJwksEndpoint(identityKeys));

  app.options(mcpPath, createPreflight(deps.origins));
  app.on(
    MCP_METHODS,
    mcpPath,
    createObserve(deps.observability),
    createOriginGuard(deps.origins),
    createAuthenticate(deps.verifier),
    createRateLimit(deps.rateLimiter),
    createReadJsonRpc(deps.limits),
    createAuthorize({ policies: deps.policies, tools: deps.tools, logger: deps.logger }),
    createStreamCap(deps.streams),
    ...(deps.sessions ? [createSessionCheck(deps.sessions)] : []),
    createForward({
      forwarder: deps.forwarder,
      sessions: deps.sessions,
      sse: { keepAliveMs: deps.limits.sseKeepAliveSeconds * 1000, idleTimeoutMs: deps.limits.sseIdleTimeoutSeconds * 1000 },
      upstreamAuth: deps.upstreamAuth,
      tools: deps.tools,
      maxListResponseBytes: 16 * 1024 * 1024,
      metrics: deps.observability.metrics,
      logger: deps.logger,
    }),
  );
  app.all(mcpPath, () => {
    throw new GatewayError('method_not_allowed', { headers: { allow: MCP_METHODS.join(', ') } });
  });

  app.notFound(() => {
    throw new GatewayError('not_found');
  });

  app.onError(function renderError(error, c) {
    const context = { resourceMetadataUrl, challengeScopes: deps.discovery().challengeScopes, jsonRpc: isMcpRequest(c, mcpPath) };
    return respondWithError(c, error, context, deps.logger);
  });
  return app;
}

/**
 * `/healthz`, `/readyz` and `/metrics`: on the main app, or on a separate
 * admin app (config `metrics.port`).
 */
export function mountOperations(app: Hono<GatewayEnv>, readiness: ReadinessSource, metrics: GatewayMetrics | undefined, metricsPath: string | undefined): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const report = buildReadiness(readiness);
    return c.json(report, report.ready ? 200 : 503);
  });
  if (metrics && metricsPath) {
    app.get(metricsPath, async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  }
}

function isMcpRequest(c: Context<GatewayEnv>, mcpPath: string): boolean {
  return c.req.path.replace(/\/+$/, '') === mcpPath.replace(/\/+$/, '') || (mcpPath === '/' && c.req.path === '/');
}

function respondWithError(
  c: Context<GatewayEnv>,
  error: unknown,
  context: ErrorResponseContext,
  logger: Logger,
): Response {
  const response = buildErrorResponse(error, { ...context, jsonRpcId: idForErrorReply(c.get('rpcBody')) });
  const requestId = c.get('observation')?.requestId;
  if (requestId) response.headers['x-request-id'] = requestId;
  Object.assign(response.headers, c.get('corsHeaders'));
  if (response.status >= 500) {
    const { code, detail } = error instanceof GatewayError ? error : { code: 'internal', detail: undefined };
    logger.error({ code, detail, err: error instanceof GatewayError ? undefined : error, path: c.req.path }, 'request failed');
  }
  return c.body(response.body, response.status as 400, response.headers);
}
