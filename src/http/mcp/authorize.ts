import type { Principal } from '../../auth/index.js';
import type { Logger } from '../../log/index.js';
import { checkMirroredHeaders, type ToolHeaderRegistry } from '../../mcp-headers/index.js';
import { buildDenial, isDenied, type CompiledPolicy } from '../../policy/index.js';
import { readHeader, type McpExchange } from './exchange.js';

/**
 * Decides every JSON-RPC message of a POST from its body with `policy`, the
 * one in force when the request arrived (kept on the exchange, so list
 * filtering and a reload mid-request use the same rules). A batch with any
 * denied element is denied whole; the upstream never sees a denied call.
 * GET (listen stream) and DELETE (end session) need a valid token only.
 */
export function authorize(exchange: McpExchange, principal: Principal, policy: CompiledPolicy, { tools, logger }: { tools: ToolHeaderRegistry; logger: Logger }): void {
  exchange.policy = policy;
  const body = exchange.rpcBody;
  if (exchange.method !== 'POST' || !body) return;

  checkMirroredHeaders(body, (name) => readHeader(exchange, name), tools);
  const decisions = exchange.observation.trace.spanSync('mcp.authorize', () => body.messages.map((message) => policy.decide(message, principal)));
  exchange.decisions = decisions;

  const denied = decisions.filter(isDenied);
  if (denied.length > 0) throw buildDenial(denied, principal, policy);
  for (const decision of decisions) {
    if (decision.effect === 'shadow-deny') {
      logger.warn({ method: decision.method, target: decision.target, rules: decision.rules, reason: decision.reason, missingScopes: decision.missingScopes, subject: principal.subject }, 'policy would deny (shadow mode); allowed');
    }
  }
}
