import { Hono, type Context } from 'hono';
import type { TokenVerifier } from '../auth/index.js';
import { buildMcpPath, buildMetadataPath, buildMetadataUrl, type ProtectedResourceMetadata } from '../discovery/index.js';
import { buildErrorResponse, GatewayError, type ErrorResponseContext } from '../errors/index.js';
import { IDENTITY_JWKS_PATH } from '../identity/index.js';
import { idForErrorReply } from '../jsonrpc/index.js';
import type { Logger } from '../log/index.js';
import type { Forwarder } from '../proxy/index.js';
import type { UpstreamAuth } from '../upstream-auth/index.js';
import type { GatewayEnv } from './context.js';
import { buildReadiness, type ReadinessSource } from './health.js';
import { createJwksEndpoint } from './jwks-endpoint.js';
import { createAuthenticate } from './middleware/authenticate.js';
import { createForward } from './middleware/forward.js';
import { createReadJsonRpc } from './middleware/read-json-rpc.js';

export interface AppDependencies {
  resourceUrl: string;
  metadata: ProtectedResourceMetadata;
  /** Scopes named in a 401 challenge. */
  challengeScopes: readonly string[];
  maxBodyBytes: number;
  verifier: TokenVerifier;
  forwarder: Forwarder;
  /** Names the identities of each forwarded call; serves the identity-JWT keys when configured. */
  upstreamAuth?: Pick<UpstreamAuth, 'describe' | 'identity'>;
  readiness: ReadinessSource;
  logger: Logger;
}

const MCP_METHODS = ['POST', 'GET', 'DELETE'];

/**
 * The gateway's HTTP surface. The MCP endpoint's pipeline reads top to bottom:
 * authenticate → read and parse the JSON-RPC body → forward. Every failure is
 * a `GatewayError` turned into a response in one place (`onError`).
 */
export function createApp(deps: AppDependencies): Hono<GatewayEnv> {
  const mcpPath = buildMcpPath(deps.resourceUrl);
  const metadataPath = buildMetadataPath(deps.resourceUrl);
  const errorContext = {
    resourceMetadataUrl: buildMetadataUrl(deps.resourceUrl),
    challengeScopes: deps.challengeScopes,
  } satisfies Omit<ErrorResponseContext, 'jsonRpc'>;
  const metadataBody = JSON.stringify(deps.metadata);

  // strict: false → `/mcp` and `/mcp/` are the same endpoint.
  const app = new Hono<GatewayEnv>({ strict: false });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const readiness = buildReadiness(deps.readiness);
    return c.json(readiness, readiness.ready ? 200 : 503);
  });

  // RFC 9728 discovery: a static document built at start-up (never a 5xx),
  // readable from any origin so browser-based clients can discover us.
  app.on(['GET', 'OPTIONS'], metadataPath, function protectedResourceMetadata(c) {
    c.header('access-control-allow-origin', '*');
    if (c.req.method === 'OPTIONS') {
      c.header('access-control-allow-methods', 'GET, OPTIONS');
      c.header('access-control-allow-headers', '*');
      return c.body(null, 204);
    }
    c.header('cache-control', 'public, max-age=300');
    return c.body(metadataBody, 200, { 'content-type': 'application/json' });
  });

  const identityKeys = deps.upstreamAuth?.identity.keyRing;
  if (identityKeys) app.on(['GET', 'OPTIONS'], IDENTITY_JWKS_PATH, createJwksEndpoint(identityKeys));

  app.on(
    MCP_METHODS,
    mcpPath,
    createAuthenticate(deps.verifier),
    createReadJsonRpc({ maxBodyBytes: deps.maxBodyBytes }),
    createForward(deps.forwarder, deps.upstreamAuth),
  );
  app.all(mcpPath, () => {
    throw new GatewayError('method_not_allowed', { headers: { allow: MCP_METHODS.join(', ') } });
  });

  app.notFound(() => {
    throw new GatewayError('not_found');
  });

  app.onError(function renderError(error, c) {
    return respondWithError(c, error, { ...errorContext, jsonRpc: isMcpRequest(c, mcpPath) }, deps.logger);
  });
  return app;
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
  if (response.status >= 500) {
    const { code, detail } = error instanceof GatewayError ? error : { code: 'internal', detail: undefined };
    logger.error({ code, detail, err: error instanceof GatewayError ? undefined : error, path: c.req.path }, 'request failed');
  }
  return c.body(response.body, response.status as 400, response.headers);
}
