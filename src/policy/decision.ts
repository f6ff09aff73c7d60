import type { RuleRef } from './rule.js';
import type { Target } from './target.js';

export type DecisionEffect = 'allow' | 'deny' | 'shadow-deny';

export type DecisionReason =
  /** A rule matched and the caller satisfies it. */
  | 'allowed'
  /** The method needs only a valid token (settings.openMethods). */
  | 'open_method'
  /** A JSON-RPC response from the client (settings.clientResponses). */
  | 'client_response'
  /** No rule matched; settings.unmatched decided. */
  | 'unmatched'
  | 'insufficient_scope'
  | 'claim_condition'
  | 'explicit_deny';

/** The decision for one JSON-RPC message, with its basis (for audit, explain and the challenge). */
export interface Decision {
  effect: DecisionEffect;
  reason: DecisionReason;
  method: string | undefined;
  target: Target | undefined;
  /** The rules that decided (target rule and/or method rule); empty for defaults. */
  rules: readonly RuleRef[];
  /** Scopes the matched rules ask for (shared with the compiled rule: never mutate). */
  requiredScopes: readonly string[];
  /** Of those, the ones the token lacks. */
  missingScopes: readonly string[];
  failedConditions: readonly string[];
}

/** Not allowed (a shadow deny is allowed). */
export function isDenied(decision: Decision): boolean {
  return decision.effect === 'deny';
}
