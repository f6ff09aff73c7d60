/**
 * Table-driven decisions: globs, anyOf, claims, hierarchy, defaults, shadow.
 */
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../../../src/jsonrpc/index.js';
import { challengeScopesFor, parsePolicyFiles, type CompiledPolicy } from '../../../src/policy/index.js';

const POLICY = `
settings:
  unmatched: deny
scopes:
  tickets:read: r
  tickets:write: w
  tickets:triage: t
  admin: a
  audit:read: ar
scopeHierarchy:
  tickets:write: [tickets:read]
  admin: [tickets:write]
tools:
  - name: list_tickets
    scopes: [tickets:read]
  - name: create_ticket
    anyOf: [[tickets:write], [tickets:triage]]
  - name: "admin_*"
    scopes: [admin]
    when:
      groups: { contains: mcp-admins }
  - name: "tenant_*"
    scopes: []
    when:
      tenant: { equals: acme }
      realm_access.roles: { contains: operator }
  - name: "report_?"
    scopes: [audit:read]
    shadow: true
  - name: forbidden_tool
    deny: true
  - name: echo
    scopes: []
prompts:
  - name: summarize_ticket
    scopes: [tickets:read]
resources:
  - uri: "tickets://{id}"
    scopes: [tickets:read]
  - uri: "files:///public/*"
    scopes: []
  - uri: "files:///private/**"
    scopes: [admin]
methods:
  - method: logging/setLevel
    scopes: [admin]
  - method: tools/call
    scopes: []
    when:
      tenant: { present: true }
`;

const policy: CompiledPolicy = parsePolicyFiles([{ file: 'policy.yaml', text: POLICY }]).policy;

function call(method: string, params?: Record<string, unknown>): JsonRpcMessage {
  return { kind: 'request', id: 1, method, params };
}
const tool = (name: string) => call('tools/call', { name, arguments: {} });

const reader = { scopes: ['tickets:read'], claims: { tenant: 'acme' } };
const writer = { scopes: ['tickets:write'], claims: { tenant: 'acme' } };
const triager = { scopes: ['tickets:triage'], claims: { tenant: 'acme' } };
const admin = { scopes: ['admin'], claims: { tenant: 'acme', groups: ['mcp-admins'] } };
const adminWithoutGroup = { scopes: ['admin'], claims: { tenant: 'acme', groups: ['support'] } };
const operator = { scopes: [], claims: { tenant: 'acme', realm_access: { roles: ['operator'] } } };
const noTenant = { scopes: ['admin'], claims: { groups: ['mcp-admins'] } };

type Row = [string, JsonRpcMessage, { scopes: string[]; claims: Record<string, unknown> }, string, string, string[]?];

describe('policy decisions', () => {
  it.each<Row>([
    ['exact tool, scope granted', tool('list_tickets'), reader, 'allow', 'allowed'],
    ['exact tool, scope missing', tool('list_tickets'), { scopes: [], claims: { tenant: 'acme' } }, 'deny', 'insufficient_scope', ['tickets:read']],
    ['hierarchy: write implies read', tool('list_tickets'), writer, 'allow', 'allowed'],
    ['hierarchy is transitive: admin → write → read', tool('list_tickets'), admin, 'allow', 'allowed'],
    ['anyOf, first alternative', tool('create_ticket'), writer, 'allow', 'allowed'],
    ['anyOf, second alternative', tool('create_ticket'), triager, 'allow', 'allowed'],
    ['anyOf, none: asks for the first alternative', tool('create_ticket'), reader, 'deny', 'insufficient_scope', ['tickets:write']],
    ['glob with claim condition satisfied', tool('admin_delete_ticket'), admin, 'allow', 'allowed'],
    ['glob, scope ok, claim condition fails', tool('admin_delete_ticket'), adminWithoutGroup, 'deny', 'claim_condition'],
    ['glob, scope missing', tool('admin_reset'), writer, 'deny', 'insufficient_scope', ['admin']],
    ['nested claim (dotted path)', tool('tenant_report'), operator, 'allow', 'allowed'],
    ['nested claim missing', tool('tenant_report'), reader, 'deny', 'claim_condition'],
    ['? matches exactly one character', tool('report_a'), reader, 'shadow-deny', 'insufficient_scope', ['audit:read']],
    ['? does not match two', tool('report_ab'), reader, 'deny', 'unmatched'],
    ['explicit deny beats every scope', tool('forbidden_tool'), admin, 'deny', 'explicit_deny'],
    ['unmatched tool → default deny', tool('new_tool_nobody_reviewed'), admin, 'deny', 'unmatched'],
    ['method rule applies on top of tool rule', tool('echo'), noTenant, 'deny', 'claim_condition'],
    ['tool with scopes: [] allows any valid token', tool('echo'), reader, 'allow', 'allowed'],
    ['prompt rule', call('prompts/get', { name: 'summarize_ticket' }), reader, 'allow', 'allowed'],
    ['prompt without rule', call('prompts/get', { name: 'other' }), admin, 'deny', 'unmatched'],
    ['resource template', call('resources/read', { uri: 'tickets://T-1' }), reader, 'allow', 'allowed'],
    ['resource template does not cross segments', call('resources/read', { uri: 'tickets://T-1/secret' }), admin, 'deny', 'unmatched'],
    ['resource glob * within a segment', call('resources/read', { uri: 'files:///public/a.txt' }), reader, 'allow', 'allowed'],
    ['resource glob * stops at /', call('resources/read', { uri: 'files:///public/sub/a.txt' }), reader, 'deny', 'unmatched'],
    ['resource glob ** crosses segments', call('resources/read', { uri: 'files:///private/a/b/c' }), writer, 'deny', 'insufficient_scope', ['admin']],
    ['subscribe is decided like read', call('resources/subscribe', { uri: 'tickets://T-1' }), { scopes: [], claims: {} }, 'deny', 'insufficient_scope', ['tickets:read']],
    ['completion for a prompt argument follows the prompt rule', call('completion/complete', { ref: { type: 'ref/prompt', name: 'summarize_ticket' } }), reader, 'allow', 'allowed'],
    ['completion for a resource template follows the resource rule', call('completion/complete', { ref: { type: 'ref/resource', uri: 'tickets://{id}' } }), { scopes: [], claims: {} }, 'deny', 'insufficient_scope', ['tickets:read']],
    ['method rule', call('logging/setLevel', { level: 'debug' }), reader, 'deny', 'insufficient_scope', ['admin']],
    ['open method: initialize', call('initialize', {}), { scopes: [], claims: {} }, 'allow', 'open_method'],
    ['open method: ping', call('ping'), { scopes: [], claims: {} }, 'allow', 'open_method'],
    ['open method: tools/list (filtered later)', call('tools/list'), { scopes: [], claims: {} }, 'allow', 'open_method'],
    ['notifications need only a valid token', { kind: 'notification', method: 'notifications/initialized', params: undefined }, { scopes: [], claims: {} }, 'allow', 'open_method'],
    ['client responses are allowed by default', { kind: 'response', id: 4 }, { scopes: [], claims: {} }, 'allow', 'client_response'],
    ['unknown method → default deny', call('tasks/list'), admin, 'deny', 'unmatched'],
  ])('%s', (_name, message, who, effect, reason, missing) => {
    const decision = policy.decide(message, { scopes: new Set(who.scopes), claims: who.claims });
    expect(decision.effect).toBe(effect);
    expect(decision.reason).toBe(reason);
    if (missing) expect(decision.missingScopes).toEqual(missing);
  });

  it('names the rule that decided, with file and line', () => {
    const decision = policy.decide(tool('admin_x'), { scopes: new Set(['admin']), claims: { groups: ['mcp-admins'], tenant: 'acme' } });
    expect(decision.rules).toEqual([
      { kind: 'tool', pattern: 'admin_*', file: 'policy.yaml', line: 18, column: 5 },
      { kind: 'method', pattern: 'tools/call', file: 'policy.yaml', line: 47, column: 5 },
    ]);
  });

  it('explains failed claim conditions', () => {
    const decision = policy.decide(tool('admin_x'), { scopes: new Set(['admin']), claims: { tenant: 'acme' } });
    expect(decision.failedConditions).toEqual(['claim groups is missing from the token']);
  });

  it('refuses a target-less call instead of guessing', () => {
    expect(() => policy.decide(call('tools/call', {}), { scopes: new Set(), claims: {} })).toThrow(/params\.name/);
    expect(() => policy.decide(call('resources/read', { uri: 42 }), { scopes: new Set(), claims: {} })).toThrow(/params\.uri/);
  });

  it('unmatched: allow is honoured when configured', () => {
    const open = parsePolicyFiles([{ file: 'p.yaml', text: 'settings: { unmatched: allow }\ntools: []\n' }]).policy;
    expect(open.decide(tool('anything'), { scopes: new Set(), claims: {} }).effect).toBe('allow');
  });

  it('openMethods can be narrowed: initialize then needs a rule', () => {
    const strict = parsePolicyFiles([{ file: 'p.yaml', text: 'settings: { openMethods: [ping] }\n' }]).policy;
    expect(strict.decide(call('initialize', {}), { scopes: new Set(), claims: {} }).reason).toBe('unmatched');
    expect(strict.decide(call('ping'), { scopes: new Set(), claims: {} }).effect).toBe('allow');
  });

  it('file-level shadow mode records would-deny and allows', () => {
    const shadow = parsePolicyFiles([{ file: 'p.yaml', text: 'shadow: true\ntools:\n  - name: t\n    scopes: [x]\n' }]).policy;
    expect(shadow.decide(tool('t'), { scopes: new Set(), claims: {} }).effect).toBe('shadow-deny');
  });

  it('list filtering uses the calling rules', () => {
    const caller = { scopes: new Set(['tickets:read']), claims: { tenant: 'acme' } };
    const listed = ['list_tickets', 'create_ticket', 'admin_x', 'echo', 'unknown', 'report_a'].filter((name) =>
      policy.isListed('tools/list', { name }, caller),
    );
    expect(listed).toEqual(['list_tickets', 'echo', 'report_a']);
    expect(policy.isListed('resources/templates/list', { uriTemplate: 'tickets://{id}' }, caller)).toBe(true);
    expect(policy.isListed('resources/list', { uri: 'files:///private/x' }, caller)).toBe(false);
    expect(policy.isListed('tools/list', { title: 'no name' }, caller)).toBe(false);
  });

  it('the step-up challenge names only granted scopes that are scope-tokens (a token scope may hold anything)', () => {
    const caller = { scopes: new Set(['tickets:read', 'tickеts:write', 'admin\u200b', 'say"hi', 'offline_access']), claims: { tenant: 'acme' } };
    const decision = policy.decide(tool('create_ticket'), caller);
    expect(challengeScopesFor([decision], caller)).toEqual(['tickets:read', 'tickets:write']);
  });
});

describe('a method rule and a tool rule together', () => {
  const combined = parsePolicyFiles([
    {
      file: 'combined.yaml',
      text: `
settings:
  unmatched: deny
scopes: { base: b, extra: e }
methods:
  - method: tools/call
    scopes: [base]
tools:
  - name: blocked
    deny: true
  - name: needs_tenant
    scopes: [base]
    when:
      tenant: { equals: acme }
  - name: shadowed
    scopes: [base, extra]
    shadow: true
`,
    },
  ]).policy;
  const decide = (name: string, scopes: string[], claims: Record<string, unknown> = {}) => combined.decide(tool(name), { scopes: new Set(scopes), claims });

  it.each<[string, string, string[], Record<string, unknown>, string, string, string[], string[]]>([
    ['an explicit deny outranks a missing scope', 'blocked', [], {}, 'deny', 'explicit_deny', ['base'], ['base']],
    ['a missing scope outranks a failed claim condition', 'needs_tenant', [], {}, 'deny', 'insufficient_scope', ['base'], ['base']],
    ['a failed claim condition alone', 'needs_tenant', ['base'], { tenant: 'other' }, 'deny', 'claim_condition', ['base'], []],
    ['only the shadow rule fails: shadow-deny', 'shadowed', ['base'], {}, 'shadow-deny', 'insufficient_scope', ['base', 'extra'], ['extra']],
    ['the enforced rule fails too: deny', 'shadowed', [], {}, 'deny', 'insufficient_scope', ['base', 'extra'], ['base', 'extra']],
    ['both satisfied: allowed, scopes named once', 'shadowed', ['base', 'extra'], {}, 'allow', 'allowed', ['base', 'extra'], []],
  ])('%s', (_name, name, scopes, claims, effect, reason, required, missing) => {
    const decision = decide(name, scopes, claims);
    expect(decision).toMatchObject({ effect, reason, requiredScopes: required, missingScopes: missing });
    expect(decision.rules.map((rule) => rule.kind)).toEqual(['tool', 'method']);
  });

  it('lists the failed conditions of every rule', () => {
    expect(decide('needs_tenant', ['base'], { tenant: 'other' }).failedConditions).toHaveLength(1);
  });
});
