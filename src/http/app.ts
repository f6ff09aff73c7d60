import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { buildMcpPath, buildMetadataPath, buildMetadataUrl, type DiscoveryView } from '../discovery/index.js';
import { buildErrorResponse, GatewayError, type ErrorResponseContext } from '../errors/index.js';
import { IDENTITY_JWKS_PATH } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { GatewayMetrics } from '../metrics/index.js';
import type { UpstreamAuth } from '../upstream-auth/index.js';
import type { OriginPolicy } from './browser-safety.js';
import type { GatewayEnv } from './context.js';
import { buildReadiness, type ReadinessSource } from './health.js';
import { createJwksEndpoint } from './jwks-endpoint.js';
import type { McpEndpoint } from './mcp/mcp-endpoint.js';
import { createHostGuard, createPreflight } from './middleware/browser-guard.js';

export interface AppDependencies {
  resourceUrl: string;
  /** The PRM document and 401 scopes for the policy in force (they follow policy reloads). */
  discovery: () => DiscoveryView;
  /** Origins and hosts allowed (browser safety). */
  origins: OriginPolicy;
  /** The MCP endpoint itself (POST, GET, DELETE), on the node:http objects. */
  mcpEndpoint: McpEndpoint;
  /** Serves the identity-JWT keys when configured. */
  upstreamAuth?: Pick<UpstreamAuth, 'identity'>;
  /** The authorization server facade's endpoints (src/authorization-server), when configured. */
  authorizationServer?: { mount(app: Hono<GatewayEnv>): void } | undefined;
  readiness: ReadinessSource;
  metrics: GatewayMetrics | undefined;
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
 * The gateway's HTTP surface besides the MCP endpoint's fast path: discovery,
 * health, metrics, the AS facade, CORS preflight and 405s. `listen()` hands
 * requests for the MCP endpoint straight to `mcpEndpoint`; the route here
 * serves the spellings of its path that only the router resolves. Every
 * failure is a `GatewayError` turned into a response in one place (`onError`).
 */
export function createApp(deps: AppDependencies): Hono<GatewayEnv> {
  const mcpPath = buildMcpPath(deps.resourceUrl);
  const metadataPath = buildMetadataPath(deps.resourceUrl);
  const resourceMetadataUrl = buildMetadataUrl(deps.resourceUrl);

  // strict: false → `/mcp` and `/mcp/` are the same endpoint.
  const app = new Hono<GatewayEnv>({ strict: false });
  if (deps.origins.allowedHosts) app.use('*', createHostGuard(deps.origins, HEALTH_PATHS));

  if (deps.operations) mountOperations(app, deps.readiness, deps.metrics, deps.metricsPath);

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

  deps.authorizationServer?.mount(app);

  const identityKeys = deps.upstreamAuth?.identity.keyRing;
  if (identityKeys) app.on(['GET', 'OPTIONS'], IDENTITY_JWKS_PATH, createJwksEndpoint(identityKeys));

  app.options(mcpPath, createPreflight(deps.origins));
  app.on(MCP_METHODS, mcpPath, async function mcpEndpoint(c) {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) throw new GatewayError('internal', { detail: 'the MCP endpoint needs the node:http request and response' });
    await deps.mcpEndpoint(incoming, outgoing);
    return RESPONSE_ALREADY_SENT;
  });
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
  const response = buildErrorResponse(error, context);
  if (response.status >= 500) {
    const { code, detail } = error instanceof GatewayError ? error : { code: 'internal', detail: undefined };
    logger.error({ code, detail, err: error instanceof GatewayError ? undefined : error, path: c.req.path }, 'request failed');
  }
  return c.body(response.body, response.status as 400, response.headers);
}
