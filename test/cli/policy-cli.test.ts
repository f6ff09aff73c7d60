/**
 * `mcp-auth-gateway policy validate | explain | test`, as a platform team runs
 * them in CI: real processes, exit codes and output.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRY = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const POLICIES = new URL('../../policies', import.meta.url).pathname;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [ENTRY, ...args], { env: { PATH: process.env.PATH }, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A gateway config whose one issuer is Entra-like: the permissions are app roles in `roles`, the client is `appid`. */
const ENTRA_GATEWAY_YAML = [
  'resource: { url: "https://mcp.example.com/mcp" }',
  'authorizationServers:',
  '  - issuer: https://login.example.com/tenant/v2.0',
  '    jwksUri: https://login.example.com/tenant/keys',
  '    claimMapping: { clientId: [azp, appid], additionalScopes: [roles] }',
  'upstream: { url: "http://127.0.0.1:3000/mcp" }',
].join('\n');

function scratch(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gw-policy-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

describe('policy validate', () => {
  it('accepts the example policies (exit 0)', async () => {
    const { code, stdout } = await run(['policy', 'validate', POLICIES]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/valid \(3 files, version [0-9a-f]{16}, 0 warnings\)/);
  });

  it('rejects an invalid policy with file:line:column (exit 1)', async () => {
    const directory = scratch({ 'a.yaml': 'scopes:\n  tickets:read: r\ntools:\n  - name: x\n    scopes: [tickets:reed]\n' });
    const { code, stderr } = await run(['policy', 'validate', directory]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${directory}/a.yaml:5:14: tools[0].scopes[0]: scope tickets:reed is not in the scope catalog`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints warnings; --strict turns them into a failure', async () => {
    const directory = scratch({ 'a.yaml': 'tools:\n  - name: "*"\n    scopes: []\n  - name: x\n    scopes: [a]\n' });
    const lenient = await run(['policy', 'validate', directory]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('never used: tool x is shadowed by the earlier rule *');
    expect((await run(['policy', 'validate', '--strict', directory])).code).toBe(1);
  });
});

describe('policy explain', () => {
  it('names the rule, required vs granted scopes and the exact challenge', async () => {
    const { code, stdout } = await run([
      'policy', 'explain', '--policy', POLICIES,
      '--claims', JSON.stringify({ sub: 'alice', scope: 'tickets:read' }),
      '--request', JSON.stringify({ method: 'tools/call', params: { name: 'create_ticket' } }),
      '--resource', 'https://mcp.example.com/mcp',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('Decision: DENY');
    expect(stdout).toMatch(/Rule: +tool create_ticket \[tickets-write\] +.*10-tickets\.yaml:\d+:\d+/);
    expect(stdout).toMatch(/Required: +tickets:write/);
    expect(stdout).toMatch(/Granted: +tickets:read/);
    expect(stdout).toContain('WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="tickets:read tickets:write", error="insufficient_scope"');
  });

  it('accepts a JWT for the claims and prints JSON with --json', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${encode({ alg: 'ES256' })}.${encode({ sub: 'carol', scp: ['admin'], groups: ['mcp-admins'] })}.sig`;
    const { code, stdout } = await run(['policy', 'explain', '--policy', POLICIES, '--claims', jwt, '--request', '{"method":"tools/call","params":{"name":"admin_delete_ticket"}}', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ effect: 'allow', grantedScopes: ['admin'] });
  });

  it('with --config, reads the claims through their issuer\'s claim mapping, as the gateway would', async () => {
    // Entra-style: the permissions are app roles in `roles`, which the standard claims do not hold.
    const config = scratch({
      'gateway.yaml': ENTRA_GATEWAY_YAML,
    });
    const claims = JSON.stringify({ iss: 'https://login.example.com/tenant/v2.0', sub: 'dave', appid: 'agent-7', roles: ['tickets:read', 'tickets:write'] });
    const request = JSON.stringify({ method: 'tools/call', params: { name: 'create_ticket' } });
    const plain = await run(['policy', 'explain', '--policy', POLICIES, '--claims', claims, '--request', request, '--json']);
    expect(JSON.parse(plain.stdout)).toMatchObject({ effect: 'deny' });
    const mapped = await run(['policy', 'explain', '--policy', POLICIES, '--claims', claims, '--request', request, '--config', join(config, 'gateway.yaml'), '--json']);
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ effect: 'allow', grantedScopes: ['tickets:read', 'tickets:write'] });

    const stranger = await run(['policy', 'explain', '--policy', POLICIES, '--claims', JSON.stringify({ iss: 'https://other.example.com', roles: ['admin'] }), '--request', request, '--config', join(config, 'gateway.yaml')]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain("the claims' iss (https://other.example.com) is not an authorizationServers issuer");
  });

  it('a missing option is a usage error (exit 2)', async () => {
    expect((await run(['policy', 'explain', '--policy', POLICIES])).code).toBe(2);
  });
});

describe('policy test', () => {
  it('runs the example test cases (exit 0)', async () => {
    const { code, stdout } = await run(['policy', 'test', POLICIES, join(POLICIES, 'tests/policy.test.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ a reader cannot create tickets; the challenge asks for read and write');
    expect(stdout).toMatch(/9 tests, 9 passed, 0 failed/);
  });

  it('fails (exit 1) and says why when a case does not hold', async () => {
    const tests = scratch({
      't.yaml': 'tests:\n  - name: wrong expectation\n    claims: { scope: tickets:read }\n    request: { method: tools/call, params: { name: create_ticket } }\n    expect: allow\n  - name: wrong challenge\n    claims: { scope: tickets:read }\n    request: { method: tools/call, params: { name: create_ticket } }\n    expect: deny\n    challengeScopes: [tickets:write]\n',
    });
    const { code, stdout } = await run(['policy', 'test', POLICIES, join(tests, 't.yaml')]);
    expect(code).toBe(1);
    expect(stdout).toContain('✗ wrong expectation\n    expected allow, got deny');
    expect(stdout).toContain('expected challenge scopes [tickets:write], got [tickets:read tickets:write]');
    expect(stdout).toMatch(/2 tests, 0 passed, 2 failed/);
  });

  it('with --config, reads each case\'s claims through its issuer\'s claim mapping; an unknown issuer fails the case', async () => {
    const directory = scratch({
      'gateway.yaml': ENTRA_GATEWAY_YAML,
      't.yaml': [
        'tests:',
        '  - name: an Entra app role grants the write scope',
        '    claims: { iss: "https://login.example.com/tenant/v2.0", sub: dave, appid: agent-7, roles: [tickets:read, tickets:write] }',
        '    request: { method: tools/call, params: { name: create_ticket } }',
        '    expect: allow',
        '  - name: a token from another issuer',
        '    claims: { iss: "https://other.example.com", scope: "tickets:read tickets:write" }',
        '    request: { method: tools/call, params: { name: create_ticket } }',
        '    expect: allow',
      ].join('\n'),
    });
    const plain = await run(['policy', 'test', POLICIES, join(directory, 't.yaml')]);
    expect(plain.stdout).toContain('✗ an Entra app role grants the write scope\n    expected allow, got deny');
    const mapped = await run(['policy', 'test', POLICIES, join(directory, 't.yaml'), '--config', join(directory, 'gateway.yaml')]);
    expect(mapped.code).toBe(1);
    expect(mapped.stdout).toContain('✓ an Entra app role grants the write scope');
    expect(mapped.stdout).toContain('✗ a token from another issuer\n    claims iss (https://other.example.com) is not an authorizationServers issuer in the config');
    expect(mapped.stdout).toMatch(/2 tests, 1 passed, 1 failed/);
  });

  it('reports a malformed test file with line:column (exit 1)', async () => {
    const tests = scratch({ 't.yaml': 'tests:\n  - name: x\n    claims: {}\n    request: {}\n    expect: maybe\n' });
    const { code, stderr } = await run(['policy', 'test', POLICIES, join(tests, 't.yaml')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/t\.yaml:5:13: tests\[0\]\.expect/);
  });
});
