import { Hono, type Context } from 'hono';
import type { TokenVerifier } from '../auth/index.js';
import { buildMcpPath, buildMetadataPath, buildMetadataUrl, type DiscoveryView } from '../discovery/index.js';
import { buildErrorResponse, GatewayError, type ErrorResponseContext } from '../errors/index.js';
import { idForErrorReply } from '../jsonrpc/index.js';
import type { Logger } from '../log/index.js';
import type { GatewayMetrics } from '../metrics/index.js';
import type { ToolHeaderRegistry } from '../mcp-headers/index.js';
import type { PolicyStore } from '../policy/index.js';
import type { Forwarder } from '../proxy/index.js';
import type { GatewayEnv } from './context.js';
import { buildReadiness, type ReadinessSource } from './health.js';
import { createAuthenticate } from './middleware/authenticate.js';
import { createAuthorize } from './middleware/authorize.js';
import { createForward } from './middleware/forward.js';
import { createObserve, type ObservabilityDependencies } from './middleware/observe.js';
import { createReadJsonRpc } from './middleware/read-json-rpc.js';

export interface AppDependencies {
  resourceUrl: string;
  /** The PRM document and 401 scopes for the policy in force (they follow policy reloads). */
  discovery: () => DiscoveryView;
  maxBodyBytes: number;
  verifier: TokenVerifier;
  policies: PolicyStore;
  tools: ToolHeaderRegistry;
  forwarder: Forwarder;
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

/**
 * The gateway's HTTP surface. The MCP endpoint's pipeline reads top to bottom:
 * observe (audit, metrics, trace) → authenticate → read and parse the JSON-RPC
 * body → authorize → forward. Every failure is a `GatewayError` turned into a
 * response in one place (`onError`).
 */
export function createApp(deps: AppDependencies): Hono<GatewayEnv> {
  const mcpPath = buildMcpPath(deps.resourceUrl);
  const metadataPath = buildMetadataPath(deps.resourceUrl);
  const resourceMetadataUrl = buildMetadataUrl(deps.resourceUrl);

  // strict: false → `/mcp` and `/mcp/` are the same endpoint.
  const app = new Hono<GatewayEnv>({ strict: false });

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

  app.on(
    MCP_METHODS,
    mcpPath,
    createObserve(deps.observability),
    createAuthenticate(deps.verifier),
    createReadJsonRpc({ maxBodyBytes: deps.maxBodyBytes }),
    createAuthorize({ policies: deps.policies, tools: deps.tools, logger: deps.logger }),
    createForward({
      forwarder: deps.forwarder,
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
  if (response.status >= 500) {
    const { code, detail } = error instanceof GatewayError ? error : { code: 'internal', detail: undefined };
    logger.error({ code, detail, err: error instanceof GatewayError ? undefined : error, path: c.req.path }, 'request failed');
  }
  return c.body(response.body, response.status as 400, response.headers);
}
