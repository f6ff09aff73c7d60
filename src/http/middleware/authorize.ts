import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../log/index.js';
import { checkMirroredHeaders, type ToolHeaderRegistry } from '../../mcp-headers/index.js';
import { buildDenial, isDenied, type PolicyStore } from '../../policy/index.js';
import type { GatewayEnv } from '../context.js';
import { readHeader } from '../request-headers.js';

/**
 * Decides every JSON-RPC message of a POST from its body with the policy in
 * force when the request arrived (kept on the context, so list filtering and a
 * reload mid-request use the same rules). A batch with any denied element is
 * denied whole; the upstream never sees a denied call. GET (listen stream) and
 * DELETE (end session) need a valid token only.
 */
export function createAuthorize({ policies, tools, logger }: { policies: PolicyStore; tools: ToolHeaderRegistry; logger: Logger }): MiddlewareHandler<GatewayEnv> {
  return async function authorize(c, next) {
    const policy = policies.current;
    c.set('policy', policy);
    if (c.req.method !== 'POST') return next();

    const body = c.get('rpcBody');
    checkMirroredHeaders(body, (name) => readHeader(c, name), tools);
    const principal = c.get('principal');
    const decisions = await c.get('observation').trace.span('mcp.authorize', async () =>
      body.messages.map((message) => policy.decide(message, principal)),
    );
    c.set('decisions', decisions);

    const denied = decisions.filter(isDenied);
    if (denied.length > 0) throw buildDenial(denied, principal, policy);
    for (const decision of decisions) {
      if (decision.effect === 'shadow-deny') {
        logger.warn({ method: decision.method, target: decision.target, rules: decision.rules, reason: decision.reason, missingScopes: decision.missingScopes, subject: principal.subject }, 'policy would deny (shadow mode); allowed');
      }
    }
    await next();
  };
}
