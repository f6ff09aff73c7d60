import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import type { Forwarder } from '../../proxy/index.js';
import type { UpstreamAuth } from '../../upstream-auth/index.js';
import type { GatewayEnv } from '../context.js';

/**
 * The last step: hand the node request/response to the forwarder, which streams
 * the upstream response straight into the socket (no WHATWG stream in between).
 */
export function createForward(forwarder: Forwarder, upstreamAuth?: Pick<UpstreamAuth, 'describe'>): MiddlewareHandler<GatewayEnv> {
  return async function forward(c) {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) {
      throw new GatewayError('internal', { detail: 'forwarding needs the node:http request and response' });
    }
    const caller = { principal: c.get('principal'), subjectToken: c.get('subjectToken') };
    // Set before forwarding, so the record of a call that fails upstream still names all three.
    if (upstreamAuth) c.set('upstreamIdentities', upstreamAuth.describe(caller));
    await forwarder.forward({ incoming, outgoing, body: c.req.method === 'POST' ? c.get('rawBody') : undefined, caller });
    return RESPONSE_ALREADY_SENT;
  };
}
