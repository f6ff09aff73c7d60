/**
 * Policy validation: schema errors with file:line:column, and the semantic
 * checks that catch rules which silently deny everyone or never apply.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicyFiles, PolicyError, type PolicyFinding } from '../../../src/policy/index.js';

function findings(files: Record<string, string>): PolicyFinding[] {
  try {
    return parsePolicyFiles(Object.entries(files).map(([file, text]) => ({ file, text }))).findings;
  } catch (error) {
    if (error instanceof PolicyError) return [...error.findings];
    throw error;
  }
}
const messages = (files: Record<string, string>) => findings(files).map((finding) => `${finding.severity} ${finding.location?.file}:${finding.location?.line}:${finding.location?.column} ${finding.path}: ${finding.message}`);

describe('policy validation', () => {
  it.each([
    ['an unknown key', { 'a.yaml': 'tools:\n  - name: x\n    scope: [a]\n' }, /error a\.yaml:3:5 tools\[0\]\.scope: unknown key/],
    ['a rule without a decision', { 'a.yaml': 'tools:\n  - name: x\n' }, /error a\.yaml:2:5 tools\[0\]: a rule needs `scopes`/],
    ['a bad scope token', { 'a.yaml': 'tools:\n  - name: x\n    scopes: ["two words"]\n' }, /error a\.yaml:3:14 tools\[0\]\.scopes\[0\]: expected a scope token/],
    ['a claim condition with two operators', { 'a.yaml': 'tools:\n  - name: x\n    scopes: []\n    when:\n      groups: { equals: a, contains: b }\n' }, /tools\[0\]\.when\.groups: a claim condition needs exactly one/],
    ['a YAML syntax error', { 'a.yaml': 'tools: [\n' }, /error a\.yaml:\d+:\d+ : /],
    ['a wrong version', { 'a.yaml': 'version: 2\n' }, /error a\.yaml:1:10 version: /],
  ])('reports %s at its line and column', (_name, files, expected) => {
    expect(messages(files).join('\n')).toMatch(expected);
  });

  it('rejects a scope missing from the catalog (a typo)', () => {
    const result = messages({ 'a.yaml': 'scopes:\n  tickets:read: r\ntools:\n  - name: x\n    scopes: [ticket:read]\n' });
    expect(result).toEqual(['error a.yaml:5:14 tools[0].scopes[0]: scope ticket:read is not in the scope catalog (`scopes:`); a typo?']);
  });

  it('rejects the same tool claimed by two files', () => {
    const result = messages({ 'a.yaml': 'tools:\n  - name: deploy\n    scopes: [a]\n', 'b.yaml': 'tools:\n  - name: deploy\n    scopes: []\n' });
    expect(result).toEqual(['error b.yaml:2:5 tools[0]: tool deploy is also claimed by a.yaml; one file must own it']);
  });

  it('rejects settings in two files', () => {
    expect(messages({ 'a.yaml': 'settings: {}\n', 'b.yaml': 'settings: {}\n' })).toEqual([
      'error b.yaml:1:11 settings: settings are already defined in a.yaml; only one policy file may hold them',
    ]);
  });

  it('rejects offline_access', () => {
    expect(messages({ 'a.yaml': 'tools:\n  - name: x\n    scopes: [offline_access]\n' })[0]).toMatch(/offline_access must not be required/);
  });

  it('warns about rules shadowed by earlier ones', () => {
    const result = messages({
      'a.yaml': 'tools:\n  - name: "admin_*"\n    scopes: [admin]\n  - name: admin_reset\n    scopes: []\n  - name: "admin_x*"\n    scopes: []\n  - name: "*"\n    scopes: []\n  - name: late\n    scopes: []\n',
    });
    expect(result).toEqual([
      'warning a.yaml:4:5 tools[1]: never used: tool admin_reset is shadowed by the earlier rule admin_* (a.yaml:2)',
      'warning a.yaml:6:5 tools[2]: never used: tool admin_x* is shadowed by the earlier rule admin_* (a.yaml:2)',
      'warning a.yaml:10:5 tools[4]: never used: tool late is shadowed by the earlier rule * (a.yaml:8)',
    ]);
  });

  it('warns about rules that can never match or never allow', () => {
    const result = messages({
      'a.yaml': 'methods:\n  - method: tool/call\n    scopes: []\ntools:\n  - name: x\n    scopes: []\n    when:\n      team: { in: [] }\n  - name: y\n    deny: true\n    scopes: [a]\n',
    });
    expect(result).toEqual([
      'warning a.yaml:8:13 tools[0].when.team: `in: []` can never hold: this rule denies everyone',
      'warning a.yaml:10:11 tools[1].deny: deny: true ignores scopes, anyOf and when on the same rule',
      'warning a.yaml:2:13 methods[0].method: tool/call matches no MCP method known to this gateway; a typo?',
    ]);
  });

  it('reports an unclosed URI template', () => {
    expect(messages({ 'a.yaml': 'resources:\n  - uri: "tickets://{id"\n    scopes: []\n' })).toEqual([
      'error a.yaml:2:10 resources[0].uri: unclosed "{" in URI template "tickets://{id"',
    ]);
  });

  it('the example policies are valid and warning-free', async () => {
    const { loadPolicyDirectory } = await import('../../../src/policy/index.js');
    const { findings: exampleFindings, policy } = await loadPolicyDirectory(new URL('../../../policies/', import.meta.url).pathname);
    expect(exampleFindings).toEqual([]);
    expect(policy.challengeScopes).toEqual(['tickets:read']);
  });
});
