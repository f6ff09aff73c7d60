import { decodeJwt, type JWTPayload } from 'jose';
import { readClientId, readScopes, type ClaimMapping } from '../auth/index.js';
import { buildErrorResponse } from '../errors/index.js';
import { parseJsonRpcBody, type JsonRpcBody } from '../jsonrpc/index.js';
import type { CompiledPolicy } from './compiled-policy.js';
import type { Decision } from './decision.js';
import { isDenied } from './decision.js';
import { buildDenial } from './denial.js';
import type { Caller } from './rule.js';

/**
 * The caller as the policy sees it, from token claims: through the issuer's claim
 * mapping when one is given (as the gateway reads that issuer's tokens), else the
 * standard claims (`scope`/`scp`, `client_id`/`azp`).
 */
export function callerFromClaims(claims: JWTPayload, mapping?: ClaimMapping): Caller & { clientId: string | undefined } {
  if (mapping) return { scopes: mapping.scopes(claims), claims, clientId: mapping.clientId(claims) };
  return { scopes: readScopes(claims), claims, clientId: readClientId(claims) };
}

/**
 * Claims from what an operator pastes: a JSON object, or a JWT (decoded
 * without verification: explaining is offline and never trusts the token).
 */
export function parseClaimsInput(text: string): JWTPayload {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as JWTPayload;
  return decodeJwt(trimmed);
}

/** A request from what an operator writes: a JSON-RPC message, with `jsonrpc` and `id` optional. */
export function parseRequestInput(value: unknown): JsonRpcBody {
  const complete = (message: unknown) =>
    typeof message === 'object' && message !== null && !Array.isArray(message)
      ? { jsonrpc: '2.0', ...('method' in message && !('id' in message) ? { id: 1 } : {}), ...message }
      : message;
  return parseJsonRpcBody(JSON.stringify(Array.isArray(value) ? value.map(complete) : complete(value)));
}

export interface Explanation {
  effect: 'allow' | 'deny' | 'shadow-deny';
  decisions: Decision[];
  grantedScopes: string[];
  /** What the client would receive when denied. */
  response?: { status: number; wwwAuthenticate?: string; body: unknown };
}

/** Decides a request for a caller and describes the outcome, including the exact challenge. */
export function explainDecision(
  policy: CompiledPolicy,
  caller: Caller & { clientId?: string | undefined },
  body: JsonRpcBody,
  { resourceMetadataUrl }: { resourceMetadataUrl: string },
): Explanation {
  const decisions = body.messages.map((message) => policy.decide(message, caller));
  const denied = decisions.filter(isDenied);
  const explanation: Explanation = {
    effect: denied.length > 0 ? 'deny' : decisions.some((decision) => decision.effect === 'shadow-deny') ? 'shadow-deny' : 'allow',
    decisions,
    grantedScopes: [...caller.scopes],
  };
  if (denied.length > 0) {
    const [first] = body.messages;
    const response = buildErrorResponse(buildDenial(denied, caller, policy), {
      resourceMetadataUrl,
      challengeScopes: policy.challengeScopes,
      jsonRpc: true,
      jsonRpcId: !body.batch && first?.kind === 'request' ? first.id : null,
    });
    explanation.response = {
      status: response.status,
      ...(response.headers['www-authenticate'] ? { wwwAuthenticate: response.headers['www-authenticate'] } : {}),
      body: JSON.parse(response.body) as unknown,
    };
  }
  return explanation;
}

/** Human-readable form of an explanation, for the terminal. */
export function formatExplanation(explanation: Explanation): string {
  const lines = [`Decision: ${explanation.effect.toUpperCase()}`];
  for (const decision of explanation.decisions) {
    const what = `${decision.method ?? '(response)'}${decision.target ? ` ${decision.target.name}` : ''}`;
    lines.push('', `Request:   ${what}`, `Effect:    ${decision.effect} (${decision.reason})`);
    for (const rule of decision.rules) {
      const where = rule.line ? `${rule.file}:${rule.line}:${rule.column}` : rule.file;
      lines.push(`Rule:      ${rule.kind} ${rule.pattern}${rule.id ? ` [${rule.id}]` : ''}  ${where}`);
    }
    if (decision.rules.length === 0) lines.push(`Rule:      none (${decision.reason === 'open_method' ? 'open method: any valid token' : decision.reason === 'unmatched' ? 'no rule matches; settings.unmatched decides' : 'default'})`);
    lines.push(`Required:  ${decision.requiredScopes.join(' ') || '(none)'}`);
    lines.push(`Granted:   ${explanation.grantedScopes.join(' ') || '(none)'}`);
    if (decision.missingScopes.length > 0) lines.push(`Missing:   ${decision.missingScopes.join(' ')}`);
    for (const condition of decision.failedConditions) lines.push(`Condition: ${condition}`);
  }
  if (explanation.response) {
    lines.push('', `The client gets: HTTP ${explanation.response.status}`);
    if (explanation.response.wwwAuthenticate) lines.push(`  WWW-Authenticate: ${explanation.response.wwwAuthenticate}`);
    lines.push(`  ${JSON.stringify(explanation.response.body)}`);
  }
  return `${lines.join('\n')}\n`;
}
