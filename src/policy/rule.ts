import type { CompiledCondition } from './claim-conditions.js';
import type { CompiledPattern } from './patterns.js';
import type { ScopeHierarchy } from './scope-hierarchy.js';

export type RuleKind = 'tool' | 'prompt' | 'resource' | 'method';

/** Where a rule came from: shown in audit records, `policy explain` and validation findings. */
export interface RuleRef {
  kind: RuleKind;
  /** The rule's pattern as written (tool name, URI, method). */
  pattern: string;
  id?: string;
  file: string;
  line?: number;
  column?: number;
}

export interface CompiledRule {
  ref: RuleRef;
  pattern: CompiledPattern;
  deny: boolean;
  shadow: boolean;
  allOf: readonly string[];
  anyOf: ReadonlyArray<readonly string[]> | undefined;
  conditions: readonly CompiledCondition[];
  /** Position in the merged policy (file-name order, then rule order). */
  order: number;
}

/** What one rule says about one caller. */
export interface RuleOutcome {
  satisfied: boolean;
  reason?: 'insufficient_scope' | 'claim_condition' | 'explicit_deny';
  /** Scopes the rule asks for: `scopes`, plus the `anyOf` alternative closest to what was granted. */
  required: string[];
  /** The part of `required` the token lacks (hierarchy taken into account). */
  missing: string[];
  /** Claim conditions that failed, with why. */
  failedConditions: string[];
}

export interface Caller {
  scopes: ReadonlySet<string>;
  claims: Readonly<Record<string, unknown>>;
}

const NONE: readonly string[] = Object.freeze([]);
const EXPLICIT_DENY: RuleOutcome = Object.freeze({ satisfied: false, reason: 'explicit_deny', required: [], missing: [], failedConditions: [] }) as RuleOutcome;

/**
 * Evaluates one rule for one caller. This runs for every call and every list
 * item, so the common case (scopes only, granted) allocates nothing.
 */
export function evaluateRule(rule: CompiledRule, caller: Caller, hierarchy: ScopeHierarchy): RuleOutcome {
  if (rule.deny) return EXPLICIT_DENY;

  let missing: string[] | undefined;
  for (const scope of rule.allOf) {
    if (!hierarchy.isSatisfied(scope, caller.scopes)) (missing ??= []).push(scope);
  }
  let required: readonly string[] = rule.allOf;
  if (rule.anyOf) {
    // The alternative needing the fewest extra scopes is the one to ask for (first on ties).
    let alternative: readonly string[] = rule.anyOf[0]!;
    let alternativeMissing: string[] | undefined;
    for (const candidate of rule.anyOf) {
      const candidateMissing = candidate.filter((scope) => !hierarchy.isSatisfied(scope, caller.scopes));
      if (!alternativeMissing || candidateMissing.length < alternativeMissing.length) {
        alternativeMissing = candidateMissing;
        alternative = candidate;
      }
      if (candidateMissing.length === 0) break;
    }
    required = unique([...rule.allOf, ...alternative]);
    if (alternativeMissing && alternativeMissing.length > 0) missing = unique([...(missing ?? []), ...alternativeMissing]);
  }
  if (missing) return { satisfied: false, reason: 'insufficient_scope', required: [...required], missing, failedConditions: [] };

  let failedConditions: string[] | undefined;
  for (const condition of rule.conditions) {
    const failure = condition.check(caller.claims);
    if (failure) (failedConditions ??= []).push(failure);
  }
  if (failedConditions) return { satisfied: false, reason: 'claim_condition', required: [...required], missing: [], failedConditions };
  return { satisfied: true, required: required as string[], missing: NONE as string[], failedConditions: NONE as string[] };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
