import type { JsonRpcMessage } from '../jsonrpc/index.js';
import type { Decision } from './decision.js';
import { evaluateRule, type Caller, type CompiledRule, type RuleKind, type RuleRef } from './rule.js';
import type { RuleIndex } from './rule-index.js';
import type { DenyResponse, PolicySettings } from './schema.js';
import type { ScopeHierarchy } from './scope-hierarchy.js';
import { findTarget, type Target } from './target.js';

export interface CompiledPolicyParts {
  version: string;
  files: readonly string[];
  settings: PolicySettings;
  hierarchy: ScopeHierarchy;
  indexes: Record<RuleKind, RuleIndex<CompiledRule>>;
  openMethods: RuleIndex<true>;
  challengeScopes: readonly string[];
  scopesSupported: readonly string[];
  /** No rules and unmatched: allow — every call is allowed and lists need no filtering. */
  permissive: boolean;
}

/** The list methods whose results are filtered, and the call each item stands for. */
export const LIST_METHODS = {
  'tools/list': { key: 'tools', field: 'name', call: 'tools/call', param: 'name' },
  'prompts/list': { key: 'prompts', field: 'name', call: 'prompts/get', param: 'name' },
  'resources/list': { key: 'resources', field: 'uri', call: 'resources/read', param: 'uri' },
  'resources/templates/list': { key: 'resourceTemplates', field: 'uriTemplate', call: 'resources/read', param: 'uri' },
} as const;
export type ListMethod = keyof typeof LIST_METHODS;

export function isListMethod(method: string | undefined): method is ListMethod {
  return method !== undefined && Object.hasOwn(LIST_METHODS, method);
}

/**
 * An immutable, compiled policy: everything a decision needs is prepared at
 * load. A request keeps the instance it started with, so a reload never
 * changes the rules under a request in flight.
 */
export class CompiledPolicy {
  readonly version: string;
  readonly files: readonly string[];
  readonly settings: PolicySettings;
  readonly challengeScopes: readonly string[];
  readonly scopesSupported: readonly string[];
  readonly permissive: boolean;
  readonly #hierarchy: ScopeHierarchy;
  readonly #indexes: Record<RuleKind, RuleIndex<CompiledRule>>;
  readonly #openMethods: RuleIndex<true>;

  constructor(parts: CompiledPolicyParts) {
    this.version = parts.version;
    this.files = parts.files;
    this.settings = parts.settings;
    this.challengeScopes = parts.challengeScopes;
    this.scopesSupported = parts.scopesSupported;
    this.permissive = parts.permissive;
    this.#hierarchy = parts.hierarchy;
    this.#indexes = parts.indexes;
    this.#openMethods = parts.openMethods;
  }

  /**
   * Decides one JSON-RPC message from its body.
   * @throws GatewayError invalid_request when a method's target is missing or malformed
   */
  decide(message: JsonRpcMessage, caller: Caller): Decision {
    if (message.kind === 'response') {
      const allowed = this.settings.clientResponses === 'allow';
      return base(allowed ? 'allow' : 'deny', 'client_response', undefined, undefined);
    }
    return this.decideCall(message.method, findTarget(message.method, message.params), caller);
  }

  /** Decides a method call on an already extracted target (used for list filtering, so listing and calling share one rule set). */
  decideCall(method: string, target: Target | undefined, caller: Caller): Decision {
    const methodRule = this.#indexes.method.find(method);
    if (target) {
      const targetRule = this.#indexes[target.kind].find(target.name);
      if (!targetRule) return this.#unmatched(method, target);
      return this.#combine(method, target, methodRule ? [targetRule, methodRule] : [targetRule], caller);
    }
    if (methodRule) return this.#combine(method, undefined, [methodRule], caller);
    if (this.#openMethods.find(method)) return base('allow', 'open_method', method, undefined);
    return this.#unmatched(method, undefined);
  }

  /** Whether a list item (a tool, prompt, resource or template) may be shown to the caller. */
  isListed(listMethod: ListMethod, item: unknown, caller: Caller): boolean {
    const spec = LIST_METHODS[listMethod];
    const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[spec.field] : undefined;
    // An item we cannot name cannot be decided: leave it out (fail closed).
    if (typeof name !== 'string' || name === '') return false;
    const target = findTarget(spec.call, { [spec.param]: name });
    return this.decideCall(spec.call, target, caller).effect !== 'deny';
  }

  /** The deny shape for a client: its override, else the policy default. */
  denyResponseFor(clientId: string | undefined): DenyResponse {
    return (clientId !== undefined ? this.settings.clients[clientId]?.denyResponse : undefined) ?? this.settings.denyResponse;
  }

  #unmatched(method: string, target: Target | undefined): Decision {
    return base(this.settings.unmatched === 'allow' ? 'allow' : 'deny', 'unmatched', method, target);
  }

  #combine(method: string, target: Target | undefined, rules: readonly CompiledRule[], caller: Caller): Decision {
    if (rules.length === 1) {
      // The common case: one rule decides; no merging needed.
      const rule = rules[0]!;
      const outcome = evaluateRule(rule, caller, this.#hierarchy);
      return {
        effect: outcome.satisfied ? 'allow' : rule.shadow ? 'shadow-deny' : 'deny',
        reason: outcome.satisfied ? 'allowed' : outcome.reason!,
        method,
        target,
        rules: [rule.ref],
        requiredScopes: outcome.required,
        missingScopes: outcome.missing,
        failedConditions: outcome.failedConditions,
      };
    }
    // Several rules (a method rule and a tool rule, say): one pass, no intermediate arrays or
    // sets (this runs on every such call; the lists hold a handful of scopes).
    const refs: RuleRef[] = [];
    const requiredScopes: string[] = [];
    const missingScopes: string[] = [];
    const failedConditions: string[] = [];
    let failing = false;
    let enforced = false;
    let explicitDeny = false;
    let scopeProblem = false;
    for (const rule of rules) {
      const outcome = evaluateRule(rule, caller, this.#hierarchy);
      refs.push(rule.ref);
      appendNew(requiredScopes, outcome.required);
      appendNew(missingScopes, outcome.missing);
      failedConditions.push(...outcome.failedConditions);
      if (outcome.satisfied) continue;
      failing = true;
      enforced ||= !rule.shadow;
      explicitDeny ||= outcome.reason === 'explicit_deny';
      scopeProblem ||= outcome.reason === 'insufficient_scope';
    }
    if (!failing) {
      return { effect: 'allow', reason: 'allowed', method, target, rules: refs, requiredScopes, missingScopes, failedConditions };
    }
    // An explicit deny outranks a scope problem, which outranks a claim problem:
    // the reason names the most fundamental obstacle.
    const reason = explicitDeny ? 'explicit_deny' : scopeProblem ? 'insufficient_scope' : 'claim_condition';
    return { effect: enforced ? 'deny' : 'shadow-deny', reason, method, target, rules: refs, requiredScopes, missingScopes, failedConditions };
  }
}

/** Appends the items `list` does not hold yet, in order (as a Set would keep them). */
function appendNew(list: string[], items: readonly string[]): void {
  for (const item of items) if (!list.includes(item)) list.push(item);
}

function base(effect: Decision['effect'], reason: Decision['reason'], method: string | undefined, target: Target | undefined): Decision {
  return { effect, reason, method, target, rules: [], requiredScopes: [], missingScopes: [], failedConditions: [] };
}
