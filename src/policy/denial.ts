import { GatewayError } from '../errors/index.js';
import type { CompiledPolicy } from './compiled-policy.js';
import type { Decision } from './decision.js';
import type { Caller } from './rule.js';

/**
 * The error for a denied request (the one place that shapes denials, used by
 * the gateway and by `policy explain`/`policy test`).
 *
 * Missing scopes → `insufficient_scope` whose challenge names granted ∪
 * required: the official SDK client *replaces* its scope with the challenged
 * one, so naming only the missing scope would lose the scopes it already has.
 * Anything scopes cannot fix (a claim condition, an explicit deny, no rule) →
 * `access_denied`, without a challenge, so clients do not loop on
 * re-authorization. Clients configured for it get either as a JSON-RPC error
 * in an HTTP 200 (`denied_in_band`).
 */
export function buildDenial(denied: readonly Decision[], caller: Caller & { clientId?: string | undefined }, policy: CompiledPolicy): GatewayError {
  const inBand = policy.denyResponseFor(caller.clientId) === 'jsonrpc-error';
  const scopeFixable = denied.every((decision) => decision.reason === 'insufficient_scope');
  const missingScopes = [...new Set(denied.flatMap((decision) => decision.missingScopes))];
  const detail = `denied ${denied.map((decision) => `${decision.method}${decision.target ? ` ${decision.target.name}` : ''} (${decision.reason})`).join(', ')}`;
  if (scopeFixable) {
    const challenge = challengeScopesFor(denied, caller);
    return new GatewayError(inBand ? 'denied_in_band' : 'insufficient_scope', {
      requiredScopes: challenge,
      publicMessage: `Insufficient scope: this call needs ${missingScopes.join(' ')}`,
      data: { reason: 'insufficient_scope', missingScopes, scope: challenge.join(' ') },
      detail,
    });
  }
  const reasons = [...new Set(denied.map((decision) => decision.reason))];
  return new GatewayError(inBand ? 'denied_in_band' : 'access_denied', { data: { reason: reasons.join(' ') }, detail });
}

/** RFC 6749 §3.3 scope-token: what policy scopes are made of (schema.ts). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Granted ∪ required, never offline_access (MCP authorization spec). A granted
 * "scope" that is not a scope-token (a token's `scope` may hold anything: a
 * zero-width space, Cyrillic letters) cannot satisfy any rule and is left out:
 * it would also make the challenge an invalid header value.
 */
export function challengeScopesFor(denied: readonly Decision[], caller: Caller): string[] {
  const required = denied.flatMap((decision) => decision.requiredScopes);
  return [...new Set([...caller.scopes, ...required])].filter((scope) => scope !== 'offline_access' && SCOPE_TOKEN.test(scope));
}
