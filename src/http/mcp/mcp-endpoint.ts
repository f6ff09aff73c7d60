import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenVerifier } from '../../auth/index.js';
import type { DiscoveryView } from '../../discovery/index.js';
import { buildErrorResponse, GatewayError } from '../../errors/index.js';
import { idForErrorReply } from '../../jsonrpc/index.js';
import type { RateLimiter, StreamCounter } from '../../limits/index.js';
import type { Logger } from '../../log/index.js';
import type { ToolHeaderRegistry } from '../../mcp-headers/index.js';
import type { PolicyStore } from '../../policy/index.js';
import type { SessionBinding } from '../../sessions/index.js';
import { buildCorsHeaders, isHostAllowed, isOriginAllowed, type OriginPolicy } from '../browser-safety.js';
import { checkRateLimit, claimStreamSlot } from './abuse-limits.js';
import { authenticate } from './authenticate.js';
import { authorize } from './authorize.js';
import { headerOf, type McpExchange } from './exchange.js';
import { forward, type ForwardOptions } from './forward.js';
import { openObservation, recordExchange, type ObservabilityDependencies } from './observe.js';
import { readJsonRpc, type BodyLimits } from './read-json-rpc.js';
import { checkSession } from './session-binding.js';

export interface McpEndpointDependencies {
  /** The absolute URL of the PRM document, named in every 401/403 challenge. */
  resourceMetadataUrl: string;
  /** The 401 scopes for the policy in force (they follow policy reloads). */
  discovery: () => Pick<DiscoveryView, 'challengeScopes'>;
  limits: BodyLimits;
  origins: OriginPolicy;
  rateLimiter: RateLimiter | undefined;
  streams: StreamCounter;
  sessions: SessionBinding | undefined;
  verifier: TokenVerifier;
  policies: PolicyStore;
  tools: ToolHeaderRegistry;
  forward: ForwardOptions;
  observability: ObservabilityDependencies;
  logger: Logger;
}

/** Serves one POST, GET or DELETE to the MCP endpoint on the node:http request and response. */
export type McpEndpoint = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<void>;

/**
 * The MCP endpoint's pipeline, top to bottom: observe → Host and Origin →
 * authenticate → rate limit → read and parse the JSON-RPC body → authorize →
 * stream cap → session binding → forward → record. Plain function calls on
 * the node:http objects, not a middleware chain: this is the path every MCP
 * message takes, and a framework's per-request context, Fetch API objects and
 * one promise per step were a measurable share of its cost
 * (docs/decisions/0004-mcp-endpoint-on-node-http.md). Every failure is a
 * `GatewayError` answered in one place (`respondWithError`), and every request
 * is recorded once its response has ended.
 */
export function createMcpEndpoint(deps: McpEndpointDependencies): McpEndpoint {
  const { origins, verifier, policies, rateLimiter, streams, sessions, limits, observability } = deps;

  async function run(exchange: McpExchange): Promise<void> {
    if (origins.allowedHosts && !isHostAllowed(origins, headerOf(exchange.incoming, 'host'))) {
      throw new GatewayError('forbidden_host', { detail: 'Host not in security.allowedHosts' });
    }
    const origin = headerOf(exchange.incoming, 'origin');
    if (!isOriginAllowed(origins, origin)) throw new GatewayError('forbidden_origin', { detail: 'Origin not in security.allowedOrigins' });
    if (origin !== undefined) exchange.corsHeaders = buildCorsHeaders(origin);

    const principal = await authenticate(exchange, verifier);
    if (rateLimiter) checkRateLimit(rateLimiter, principal);
    if (exchange.method === 'POST') await readJsonRpc(exchange, limits);
    const policy = policies.current;
    authorize(exchange, principal, policy, deps);
    const releaseStreamSlot = claimStreamSlot(streams, exchange, principal);
    try {
      if (sessions) checkSession(exchange, principal, sessions);
      await forward(exchange, principal, policy, deps.forward);
    } finally {
      releaseStreamSlot?.();
    }
  }

  return async function serveMcp(incoming, outgoing) {
    const exchange: McpExchange = { incoming, outgoing, method: incoming.method!, observation: openObservation(incoming, observability) };
    try {
      await run(exchange);
    } catch (error) {
      exchange.error = error;
      respondWithError(exchange, error, deps);
    }
    try {
      recordExchange(exchange, observability);
    } catch (error) {
      deps.logger.error({ err: error, requestId: exchange.observation.requestId }, 'could not record the request');
    }
  };
}

/** The one place a failure on the MCP endpoint becomes a response: a JSON-RPC error with its HTTP status and challenge. */
function respondWithError(exchange: McpExchange, error: unknown, deps: McpEndpointDependencies): void {
  const { outgoing } = exchange;
  const response = buildErrorResponse(error, {
    resourceMetadataUrl: deps.resourceMetadataUrl,
    challengeScopes: deps.discovery().challengeScopes,
    jsonRpc: true,
    jsonRpcId: idForErrorReply(exchange.rpcBody),
  });
  if (response.status >= 500) {
    const { code, detail } = error instanceof GatewayError ? error : { code: 'internal', detail: undefined };
    deps.logger.error({ code, detail, err: error instanceof GatewayError ? undefined : error, path: exchange.incoming.url?.split('?')[0] }, 'request failed');
  }
  if (outgoing.destroyed) return; // the client is gone (or node's request timeout closed it): nobody to answer
  if (outgoing.headersSent) {
    // Too late for an error response (the forwarder reports failures after the head in its outcome): cut the stream.
    outgoing.destroy();
    return;
  }
  response.headers['x-request-id'] = exchange.observation.requestId;
  if (exchange.corsHeaders) Object.assign(response.headers, exchange.corsHeaders);
  response.headers['content-length'] = String(Buffer.byteLength(response.body));
  outgoing.writeHead(response.status, response.headers);
  outgoing.end(response.body);
}
