import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';
import type { Transform } from 'node:stream';
import { createOutcomeTap } from '../../audit/index.js';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ToolHeaderRegistry } from '../../mcp-headers/index.js';
import type { JsonRpcId } from '../../jsonrpc/index.js';
import type { GatewayMetrics } from '../../metrics/index.js';
import { createListFilter, idKey, isListMethod, type ListMethod, type ListResponseSelector } from '../../policy/index.js';
import { SseKeepAlive, type Forwarder, type ForwardRequest, type SseKeepAliveOptions } from '../../proxy/index.js';
import type { SessionBinding } from '../../sessions/index.js';
import { principalKey } from './abuse-limits.js';
import type { UpstreamAuth } from '../../upstream-auth/index.js';
import type { GatewayEnv } from '../context.js';

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
export function createForward({ forwarder, sessions, sse, upstreamAuth, tools, maxListResponseBytes, metrics, logger }: ForwardOptions): MiddlewareHandler<GatewayEnv> {
  return async function forward(c) {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) {
      throw new GatewayError('internal', { detail: 'forwarding needs the node:http request and response' });
    }
    const observation = c.get('observation');
    const traceparent = observation.trace.startUpstream();
    const caller = { principal: c.get('principal'), subjectToken: c.get('subjectToken') };
    // Set before forwarding, so the record of a call that fails upstream still names all three identities.
    if (upstreamAuth) c.set('upstreamIdentities', upstreamAuth.describe(caller));
    const request: ForwardRequest = {
      incoming,
      outgoing,
      body: c.req.method === 'POST' ? c.get('rawBody') : undefined,
      parsedBody: c.req.method === 'POST' ? c.get('rpcBody').value : undefined,
      caller,
      headerOverrides: {
        'x-request-id': observation.requestId,
        ...(traceparent ? { traceparent } : {}),
        ...(c.get('upstreamSessionId') !== undefined ? { 'mcp-session-id': c.get('upstreamSessionId') } : {}),
      },
    };
    const selector = selectListResponses(c);
    if (selector) {
      // Compressed bodies cannot be filtered; ask for identity (and refuse anything else).
      request.headerOverrides!['accept-encoding'] = 'identity';
    }
    let streaming = false;
    request.prepareResponse = (status, headers) => {
      headers['x-request-id'] = observation.requestId;
      Object.assign(headers, c.get('corsHeaders'));
      const upstreamSession = headers['mcp-session-id'];
      if (sessions && typeof upstreamSession === 'string') headers['mcp-session-id'] = sessions.wrap(upstreamSession, principalKey(caller.principal));
      const transforms: Transform[] = [];
      // Outcomes are read (for audit, when on) for the messages this request carried: a POST's.
      // A GET stream decides no message, so it is not read.
      const outcomes = c.req.method === 'POST' ? observation.outcomes : undefined;
      const tap = outcomes && createOutcomeTap(String(headers['content-type'] ?? ''), (id, outcome) => outcomes.set(idKey(id as JsonRpcId), outcome));
      if (selector) {
        const filter = createListFilter(status, headers, {
          policy: c.get('policy'),
          caller: caller.principal,
          selector,
          maxBytes: maxListResponseBytes,
          onToolsListed: (listed) => tools.learn(listed),
          onDrop: (reason) => logger.warn({ reason, requestId: observation.requestId }, 'list response output dropped: cannot be filtered'),
        });
        if (filter) transforms.push(filter);
      }
      streaming = String(headers['content-type'] ?? '').startsWith('text/event-stream');
      if (streaming) {
        metrics?.openStreams.inc();
        transforms.push(new SseKeepAlive(sse));
      }
      return { transforms, ...(tap ? { observe: (chunk: Buffer) => tap.write(chunk) } : {}) };
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
    return RESPONSE_ALREADY_SENT;
  };
}

function selectListResponses(c: Context<GatewayEnv>): ListResponseSelector | undefined {
  if (c.req.method === 'GET') return c.get('policy').permissive ? undefined : { byShape: true };
  if (c.req.method !== 'POST') return undefined;
  const byId = new Map<string, ListMethod>();
  for (const message of c.get('rpcBody').messages) {
    if (message.kind === 'request' && isListMethod(message.method)) byId.set(idKey(message.id), message.method);
  }
  return byId.size > 0 ? { byId } : undefined;
}
