/**
 * Property-based fuzzing of the policy evaluator. Random policies are written as
 * YAML and go through the real loader and compiler (schema, rule index, scope
 * hierarchy); random callers call every name of a small alphabet. The compiled
 * policy is checked against a naive reference (a linear first-match scan with
 * regexes, the hierarchy closed by hand), and for the properties the threat
 * model relies on: deterministic, listing ⇔ calling (through the real list
 * filter), monotonic in scopes, `unmatched: deny` never allows what no rule matches.
 */
import { once } from 'node:events';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../../src/jsonrpc/index.js';
import { createListFilter, idKey, parsePolicyFiles, type CompiledPolicy, type ListMethod } from '../../src/policy/index.js';

const RUNS = { numRuns: 80 };

// ---------------------------------------------------------------------------------------------
// Generators

const SCOPES = ['s1', 's2', 's3', 's4'] as const;
const GROUPS = ['g1', 'g2'] as const;
const TENANTS = ['t1', 't2'] as const;
/** Every tool name of the alphabet up to 3 characters: overlapping prefixes exercise the rule index trie. */
const NAMES = (() => {
  const letters = ['a', 'b', '_'];
  const names: string[] = [];
  let level = [''];
  for (let length = 1; length <= 3; length += 1) {
    level = level.flatMap((prefix) => letters.map((letter) => prefix + letter));
    names.push(...level);
  }
  return names;
})();

type Condition = { groups: { contains: string } } | { tenant: { equals: string } } | { tenant: { in: string[] } } | { tenant: { present: boolean } };

interface RuleSpec {
  name?: string;
  method?: string;
  scopes?: string[];
  anyOf?: string[][];
  deny?: true;
  when?: Record<string, Record<string, unknown>>;
  shadow?: boolean;
}

interface PolicySpec {
  settings: { unmatched: 'deny' | 'allow' };
  scopeHierarchy: Record<string, string[]>;
  tools: RuleSpec[];
  methods: RuleSpec[];
}

interface CallerSpec {
  scopes: string[];
  claims: { groups?: string[]; tenant?: string };
}

const scopeSet = fc.subarray([...SCOPES]);
const pattern = fc.array(fc.constantFrom('a', 'b', '_', '*', '?'), { minLength: 1, maxLength: 4 }).map((chars) => chars.join(''));
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.constantFrom(...GROUPS).map((group) => ({ groups: { contains: group } })),
  fc.constantFrom(...TENANTS).map((tenant) => ({ tenant: { equals: tenant } })),
  fc.subarray([...TENANTS], { minLength: 1 }).map((tenants) => ({ tenant: { in: tenants } })),
  fc.boolean().map((present) => ({ tenant: { present } })),
);
const decisionFields = fc.oneof(
  fc.record({ scopes: scopeSet }),
  fc.record({ anyOf: fc.array(fc.subarray([...SCOPES], { minLength: 1 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ scopes: scopeSet, anyOf: fc.array(fc.subarray([...SCOPES], { minLength: 1 }), { minLength: 1, maxLength: 2 }) }),
  fc.constant({ deny: true as const }),
);
const extras = fc.record(
  { when: fc.array(condition, { maxLength: 2 }).map((conditions) => Object.assign({}, ...conditions) as Record<string, Record<string, unknown>>), shadow: fc.boolean() },
  { requiredKeys: [] },
);
const toolRule: fc.Arbitrary<RuleSpec> = fc.tuple(pattern, decisionFields, extras).map(([name, decision, extra]) => ({ name, ...decision, ...extra }));
const methodRule: fc.Arbitrary<RuleSpec> = fc.tuple(fc.constantFrom('tools/call', 'tools/*', 'tools/?all'), decisionFields, extras).map(([method, decision, extra]) => ({ method, ...decision, ...extra }));
const policySpec: fc.Arbitrary<PolicySpec> = fc.record({
  settings: fc.record({ unmatched: fc.constantFrom('deny' as const, 'allow' as const) }),
  scopeHierarchy: fc.dictionary(fc.constantFrom(...SCOPES), fc.subarray([...SCOPES], { minLength: 1 }), { maxKeys: 3 }),
  tools: fc.array(toolRule, { maxLength: 8 }),
  methods: fc.array(methodRule, { maxLength: 2 }),
});
const callerSpec: fc.Arbitrary<CallerSpec> = fc.record({
  scopes: scopeSet,
  claims: fc.record({ groups: fc.subarray([...GROUPS]), tenant: fc.constantFrom(...TENANTS) }, { requiredKeys: [] }),
});

function compile(spec: PolicySpec): CompiledPolicy {
  return parsePolicyFiles([{ file: 'fuzz.yaml', text: stringify(spec) }]).policy;
}

const asCaller = (caller: CallerSpec) => ({ scopes: new Set(caller.scopes), claims: caller.claims });
const callTool = (name: string): JsonRpcMessage => ({ kind: 'request', id: 1, method: 'tools/call', params: { name, arguments: {} } });

// ---------------------------------------------------------------------------------------------
// The reference: what docs/policy.md says, written the slow and obvious way

function globToRegex(glob: string): RegExp {
  return new RegExp(`^${[...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')}$`, 's');
}

function satisfiers(spec: PolicySpec, scope: string): Set<string> {
  // Every granted scope whose implications reach `scope` (transitively), and the scope itself.
  const result = new Set([scope]);
  for (const start of Object.keys(spec.scopeHierarchy)) {
    const seen = new Set<string>();
    const pending = [...(spec.scopeHierarchy[start] ?? [])];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(...(spec.scopeHierarchy[next] ?? []));
    }
    if (seen.has(scope)) result.add(start);
  }
  return result;
}

function conditionHolds(claim: string, test: Record<string, unknown>, claims: CallerSpec['claims']): boolean {
  const value = (claims as Record<string, unknown>)[claim];
  if ('present' in test) return (value !== undefined) === test.present;
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  if ('equals' in test) return value === test.equals;
  if ('contains' in test) return values.includes(test.contains);
  return values.some((entry) => (test.in as unknown[]).includes(entry));
}

function ruleHolds(rule: RuleSpec, spec: PolicySpec, caller: CallerSpec): boolean {
  if (rule.deny) return false;
  const has = (scope: string) => [...satisfiers(spec, scope)].some((granted) => caller.scopes.includes(granted));
  if (!(rule.scopes ?? []).every(has)) return false;
  if (rule.anyOf && !rule.anyOf.some((alternative) => alternative.every(has))) return false;
  return Object.entries(rule.when ?? {}).every(([claim, test]) => conditionHolds(claim, test, caller.claims));
}

function referenceDecision(spec: PolicySpec, caller: CallerSpec, name: string): { allowed: boolean; rule: string | undefined } {
  const target = spec.tools.find((rule) => globToRegex(rule.name!).test(name));
  if (!target) return { allowed: spec.settings.unmatched === 'allow', rule: undefined };
  const methodRule = spec.methods.find((rule) => globToRegex(rule.method!).test('tools/call'));
  const rules = methodRule ? [target, methodRule] : [target];
  const enforcedFailure = rules.some((rule) => !ruleHolds(rule, spec, caller) && !rule.shadow);
  return { allowed: !enforcedFailure, rule: target.name };
}

/** The names a tools/list response keeps after the real JSON list filter. */
async function listedByFilter(policy: CompiledPolicy, caller: CallerSpec, names: readonly string[]): Promise<string[]> {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  const filter = createListFilter(200, headers, { policy, caller: asCaller(caller), selector: { byId: new Map<string, ListMethod>([[idKey(7), 'tools/list']]) }, maxBytes: 1 << 20 })!;
  let output = '';
  filter.on('data', (chunk: Buffer) => (output += chunk.toString()));
  filter.end(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: names.map((name) => ({ name, description: `tool ${name}` })) } }));
  await once(filter, 'end');
  return (JSON.parse(output) as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
}

// ---------------------------------------------------------------------------------------------

describe('policy evaluator (fast-check)', () => {
  it('agrees with the reference on every name: effect and deciding rule (first match wins)', () => {
    fc.assert(
      fc.property(policySpec, callerSpec, (spec, caller) => {
        const policy = compile(spec);
        for (const name of NAMES) {
          const decision = policy.decide(callTool(name), asCaller(caller));
          const expected = referenceDecision(spec, caller, name);
          expect({ name, allowed: decision.effect !== 'deny', rule: decision.rules[0]?.pattern }).toEqual({ name, allowed: expected.allowed, rule: expected.rule });
          if (!expected.rule) expect(decision.reason).toBe('unmatched');
        }
      }),
      RUNS,
    );
  });

  it('is deterministic: the same policy text and caller give the same decisions, compiled once or twice', () => {
    fc.assert(
      fc.property(policySpec, callerSpec, (spec, caller) => {
        const first = compile(spec);
        const second = compile(spec);
        expect(second.version).toBe(first.version);
        for (const name of NAMES) {
          const decision = first.decide(callTool(name), asCaller(caller));
          expect(first.decide(callTool(name), asCaller(caller))).toEqual(decision);
          expect(second.decide(callTool(name), asCaller(caller))).toEqual(decision);
        }
      }),
      RUNS,
    );
  });

  it('listing ⇔ calling: the list filter keeps exactly the tools the caller may call', async () => {
    await fc.assert(
      fc.asyncProperty(policySpec, callerSpec, fc.shuffledSubarray(NAMES, { minLength: 1 }), async (spec, caller, names) => {
        const policy = compile(spec);
        const callable = names.filter((name) => policy.decide(callTool(name), asCaller(caller)).effect !== 'deny');
        expect(await listedByFilter(policy, caller, names)).toEqual(callable);
        for (const name of names) expect(policy.isListed('tools/list', { name }, asCaller(caller))).toBe(callable.includes(name));
      }),
      RUNS,
    );
  });

  it('is monotonic: one more scope never turns an allowed call into a denied one', () => {
    fc.assert(
      fc.property(policySpec, callerSpec, fc.constantFrom(...SCOPES), (spec, caller, extra) => {
        const policy = compile(spec);
        const richer = { ...caller, scopes: [...new Set([...caller.scopes, extra])] };
        for (const name of NAMES) {
          if (policy.decide(callTool(name), asCaller(caller)).effect !== 'deny') {
            expect(policy.decide(callTool(name), asCaller(richer)).effect, `${name} with ${extra} added`).not.toBe('deny');
          }
        }
      }),
      RUNS,
    );
  });

  it('unmatched: deny never allows a call no rule matches, whatever the caller holds', () => {
    fc.assert(
      fc.property(policySpec, callerSpec, (spec, caller) => {
        const strict = { ...spec, settings: { unmatched: 'deny' as const } };
        const policy = compile(strict);
        const everything = { scopes: [...SCOPES], claims: { groups: [...GROUPS], tenant: 't1' } };
        for (const name of NAMES) {
          if (strict.tools.some((rule) => globToRegex(rule.name!).test(name))) continue;
          for (const who of [caller, everything]) {
            const decision = policy.decide(callTool(name), asCaller(who));
            expect(decision).toMatchObject({ effect: 'deny', reason: 'unmatched' });
            expect(policy.isListed('tools/list', { name }, asCaller(who))).toBe(false);
          }
        }
      }),
      RUNS,
    );
  });

  it('an explicit deny is never allowed, not by any scope or claim (shadow aside)', () => {
    fc.assert(
      fc.property(policySpec, pattern, (spec, denied) => {
        const withDeny = { ...spec, tools: [{ name: denied, deny: true as const }, ...spec.tools] };
        const policy = compile(withDeny);
        const everything = { scopes: new Set<string>(SCOPES), claims: { groups: [...GROUPS], tenant: 't1' } };
        for (const name of NAMES.filter((candidate) => globToRegex(denied).test(candidate))) {
          expect(policy.decide(callTool(name), everything)).toMatchObject({ effect: 'deny', reason: 'explicit_deny' });
        }
      }),
      RUNS,
    );
  });
});
