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

export function evaluateRule(rule: CompiledRule, caller: Caller, hierarchy: ScopeHierarchy): RuleOutcome {
  if (rule.deny) return { satisfied: false, reason: 'explicit_deny', required: [], missing: [], failedConditions: [] };

  const lacks = (scope: string) => !hierarchy.isSatisfied(scope, caller.scopes);
  const missingAll = rule.allOf.filter(lacks);
  let alternative: readonly string[] = [];
  let missingAlternative: string[] = [];
  if (rule.anyOf) {
    // The alternative needing the fewest extra scopes is the one to ask for (first on ties).
    let bestMissing: string[] | undefined;
    for (const candidate of rule.anyOf) {
      const candidateMissing = candidate.filter(lacks);
      if (!bestMissing || candidateMissing.length < bestMissing.length) {
        bestMissing = candidateMissing;
        alternative = candidate;
      }
      if (candidateMissing.length === 0) break;
    }
    missingAlternative = bestMissing ?? [];
  }
  const required = unique([...rule.allOf, ...alternative]);
  const missing = unique([...missingAll, ...missingAlternative]);
  if (missing.length > 0) return { satisfied: false, reason: 'insufficient_scope', required, missing, failedConditions: [] };

  const failedConditions: string[] = [];
  for (const condition of rule.conditions) {
    const failure = condition.check(caller.claims);
    if (failure) failedConditions.push(failure);
  }
  if (failedConditions.length > 0) return { satisfied: false, reason: 'claim_condition', required, missing, failedConditions };
  return { satisfied: true, required, missing, failedConditions };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
