import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import type { SessionBinding } from '../../sessions/index.js';
import type { GatewayEnv } from '../context.js';
import { readHeader } from '../request-headers.js';
import { principalKey } from './abuse-limits.js';

/**
 * An MCP session belongs to the principal that created it (MCP security best
 * practices: bind session ids to the user). The client only ever holds a
 * signed wrapper of the upstream's id; a wrapper that does not verify for this
 * principal is answered like an unknown session (404) and audited. The
 * forward step sends the unwrapped id upstream and wraps new ones.
 */
export function createSessionCheck(binding: SessionBinding): MiddlewareHandler<GatewayEnv> {
  return async function checkSession(c, next) {
    const presented = readHeader(c, 'mcp-session-id');
    if (presented !== undefined) {
      const upstreamSessionId = binding.unwrap(presented, principalKey(c.get('principal')));
      if (upstreamSessionId === undefined) {
        throw new GatewayError('session_not_found', { detail: 'session id not issued to this principal (or not issued by this gateway)' });
      }
      c.set('upstreamSessionId', upstreamSessionId);
    }
    await next();
  };
}
