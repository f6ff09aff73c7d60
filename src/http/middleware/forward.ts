import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ToolHeaderRegistry } from '../../mcp-headers/index.js';
import { createListFilter, idKey, isListMethod, type ListMethod, type ListResponseSelector } from '../../policy/index.js';
import type { Forwarder, ForwardRequest } from '../../proxy/index.js';
import type { GatewayEnv } from '../context.js';

export interface ForwardOptions {
  forwarder: Forwarder;
  tools: ToolHeaderRegistry;
  /** Largest list response (JSON body or SSE event) held for filtering, in bytes. */
  maxListResponseBytes: number;
  logger: Logger;
}

/**
 * The last step: hand the node request/response to the forwarder, which streams
 * the upstream response straight into the socket. Responses that can carry a
 * catalog (list requests, and GET streams, where a resumed stream may replay
 * one) go through the list filter, decided by the same policy as the calls.
 */
export function createForward({ forwarder, tools, maxListResponseBytes, logger }: ForwardOptions): MiddlewareHandler<GatewayEnv> {
  return async function forward(c) {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) {
      throw new GatewayError('internal', { detail: 'forwarding needs the node:http request and response' });
    }
    const request: ForwardRequest = { incoming, outgoing, body: c.req.method === 'POST' ? c.get('rawBody') : undefined };
    const selector = selectListResponses(c);
    if (selector) {
      const policy = c.get('policy');
      const caller = c.get('principal');
      // Compressed bodies cannot be filtered; ask for identity (and refuse anything else).
      request.headerOverrides = { 'accept-encoding': 'identity' };
      request.responseTransforms = (status, headers) => {
        const filter = createListFilter(status, headers, {
          policy,
          caller,
          selector,
          maxBytes: maxListResponseBytes,
          onToolsListed: (listed) => tools.learn(listed),
          onDrop: (reason) => logger.warn({ reason, subject: caller.subject }, 'list response output dropped: cannot be filtered'),
        });
        return filter ? [filter] : [];
      };
    }
    await forwarder.forward(request);
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
