import type { Transform } from 'node:stream';
import { createOutcomeTap } from '../../audit/index.js';
import type { Principal } from '../../auth/index.js';
import type { JsonRpcId } from '../../jsonrpc/index.js';
import type { Logger } from '../../log/index.js';
import type { ToolHeaderRegistry } from '../../mcp-headers/index.js';
import type { GatewayMetrics } from '../../metrics/index.js';
import { createListFilter, idKey, isListMethod, type CompiledPolicy, type ListMethod, type ListResponseSelector } from '../../policy/index.js';
import type { Forwarder, ForwardRequest, SseKeepAliveOptions } from '../../proxy/index.js';
import type { SessionBinding } from '../../sessions/index.js';
import type { UpstreamAuth } from '../../upstream-auth/index.js';
import { principalKey } from './abuse-limits.js';
import type { McpExchange } from './exchange.js';

export interface ForwardOptions {
  forwarder: Forwarder;
  /** Wraps upstream session ids for the client (session binding); undefined passes them through. */
  sessions: SessionBinding | undefined;
  /** Keep-alive comments and the idle timeout of SSE responses. */
  sse: SseKeepAliveOptions;
  /** Describes the three identities of a forwarded call (user, agent, service credential) for audit. */
  upstreamAuth: Pick<UpstreamAuth, 'describe'> | undefined;
  tools: ToolHeaderRegistry;
  /** Largest list response (JSON body or SSE event) held for filtering, in bytes. */
  maxListResponseBytes: number;
  metrics: GatewayMetrics | undefined;
  logger: Logger;
}

/**
 * The last step: hand the node request/response to the forwarder, which streams
 * the upstream response straight into the socket. On the way, the response is
 * read for its JSON-RPC outcomes (audit) without being held, and responses
 * that can carry a catalog (list requests, and GET streams, where a resumed
 * stream may replay one) go through the list filter, decided by the same
 * policy as the calls.
 */
export async function forward(exchange: McpExchange, principal: Principal, policy: CompiledPolicy, options: ForwardOptions): Promise<void> {
  const { forwarder, sessions, sse, upstreamAuth, tools, maxListResponseBytes, metrics, logger } = options;
  const { observation } = exchange;
  const traceparent = observation.trace.startUpstream();
  const caller = { principal, subjectToken: exchange.subjectToken };
  // Set before forwarding, so the record of a call that fails upstream still names all three identities.
  if (upstreamAuth) exchange.upstreamIdentities = upstreamAuth.describe(caller);
  const headerOverrides: Record<string, string> = { 'x-request-id': observation.requestId };
  if (traceparent) headerOverrides.traceparent = traceparent;
  if (exchange.upstreamSessionId !== undefined) headerOverrides['mcp-session-id'] = exchange.upstreamSessionId;
  const selector = selectListResponses(exchange, policy);
  // Compressed bodies cannot be filtered; ask for identity (and refuse anything else).
  if (selector) headerOverrides['accept-encoding'] = 'identity';

  let streaming = false;
  const request: ForwardRequest = {
    incoming: exchange.incoming,
    outgoing: exchange.outgoing,
    body: exchange.rawBody,
    parsedBody: exchange.rpcBody?.value,
    caller,
    headerOverrides,
    prepareResponse(status, headers) {
      headers['x-request-id'] = observation.requestId;
      if (exchange.corsHeaders) Object.assign(headers, exchange.corsHeaders);
      const upstreamSession = headers['mcp-session-id'];
      if (sessions && typeof upstreamSession === 'string') headers['mcp-session-id'] = sessions.wrap(upstreamSession, principalKey(principal));
      const transforms: Transform[] = [];
      // Outcomes are read (for audit, when on) for the messages this request carried: a POST's.
      // A GET stream decides no message, so it is not read.
      const outcomes = exchange.method === 'POST' ? observation.outcomes : undefined;
      const tap = outcomes && createOutcomeTap(String(headers['content-type'] ?? ''), (id, outcome) => outcomes.set(idKey(id as JsonRpcId), outcome));
      if (selector) {
        const filter = createListFilter(status, headers, {
          policy,
          caller: principal,
          selector,
          maxBytes: maxListResponseBytes,
          onToolsListed: (listed) => tools.learn(listed),
          onDrop: (reason) => logger.warn({ reason, requestId: observation.requestId }, 'list response output dropped: cannot be filtered'),
        });
        if (filter) transforms.push(filter);
      }
      streaming = String(headers['content-type'] ?? '').startsWith('text/event-stream');
      if (streaming) metrics?.openStreams.inc();
      return { transforms, ...(tap ? { observe: (chunk: Buffer) => tap.write(chunk) } : {}), ...(streaming ? { sse } : {}) };
    },
  };
  try {
    const outcome = await forwarder.forward(request);
    observation.forward = { status: outcome.status, upstreamMs: outcome.upstreamHeadersMs, endedBy: outcome.endedBy };
    observation.trace.endUpstream({ 'http.response.status_code': outcome.status }, outcome.endedBy === 'upstream');
  } catch (error) {
    observation.trace.endUpstream({}, true);
    throw error;
  } finally {
    if (streaming) metrics?.openStreams.dec();
  }
}

function selectListResponses(exchange: McpExchange, policy: CompiledPolicy): ListResponseSelector | undefined {
  if (exchange.method === 'GET') return policy.permissive ? undefined : { byShape: true };
  if (exchange.method !== 'POST' || !exchange.rpcBody) return undefined;
  const byId = new Map<string, ListMethod>();
  for (const message of exchange.rpcBody.messages) {
    if (message.kind === 'request' && isListMethod(message.method)) byId.set(idKey(message.id), message.method);
  }
  return byId.size > 0 ? { byId } : undefined;
}
