import type { Principal } from '../../auth/index.js';
import { GatewayError } from '../../errors/index.js';
import type { SessionBinding } from '../../sessions/index.js';
import { principalKey } from './abuse-limits.js';
import { readHeader, type McpExchange } from './exchange.js';

/**
 * An MCP session belongs to the principal that created it (MCP security best
 * practices: bind session ids to the user). The client only ever holds a
 * signed wrapper of the upstream's id; a wrapper that does not verify for this
 * principal is answered like an unknown session (404) and audited. The
 * forward step sends the unwrapped id upstream and wraps new ones.
 */
export function checkSession(exchange: McpExchange, principal: Principal, binding: SessionBinding): void {
  const presented = readHeader(exchange, 'mcp-session-id');
  if (presented === undefined) return;
  const upstreamSessionId = binding.unwrap(presented, principalKey(principal));
  if (upstreamSessionId === undefined) {
    throw new GatewayError('session_not_found', { detail: 'session id not issued to this principal (or not issued by this gateway)' });
  }
  exchange.upstreamSessionId = upstreamSessionId;
}
