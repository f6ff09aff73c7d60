/**
 * The CLI as an operator runs it: a real process, its exit code and output.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startDemoAuthorizationServer } from '../../src/demo/authorization-server.js';

const ENTRY = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const SECRET = 'upstream-secret-value-42';

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [ENTRY, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-gw-cli-'));
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, text);
  return path;
}

const GOOD = `
resource:
  url: https://mcp.example.com/mcp
authorizationServers:
  - issuer: https://auth.example.com
upstream:
  url: http://127.0.0.1:3000/mcp
  credential:
    header: X-API-Key
    value: \${env:UPSTREAM_KEY}
`;

describe('mcp-auth-gateway CLI', () => {
  it('--version prints the package version', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help lists the commands', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('serve');
    expect(stdout).toContain('validate');
  });

  it('validate: a good config exits 0 and never prints the secret', async () => {
    const { code, stdout, stderr } = await run(['validate', '--config', writeConfig(GOOD)], { UPSTREAM_KEY: SECRET });
    expect(code).toBe(0);
    expect(stdout).toContain('valid');
    expect(stdout).toContain('X-API-Key: <hidden>');
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('validate: a stdio upstream is shown by command, without its arguments, environment or shared secret', async () => {
    const stdio = GOOD.replace(/upstream:[\s\S]*$/, `upstream:
  type: stdio
  command: node
  args: [server.js, "--token=\${env:UPSTREAM_KEY}"]
  env:
    API_KEY: \${env:UPSTREAM_KEY}
  sharedSecret:
    value: \${env:UPSTREAM_KEY}
`);
    const { code, stdout, stderr } = await run(['validate', '--config', writeConfig(stdio)], { UPSTREAM_KEY: SECRET });
    expect(code).toBe(0);
    expect(stdout).toContain('upstream:   stdio: node (2 arguments)');
    expect(stdout).toContain('credential: shared secret in $MCP_GATEWAY_SHARED_SECRET: <hidden>');
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('validate: reads MCP_GATEWAY_CONFIG when --config is absent', async () => {
    const { code } = await run(['validate'], { MCP_GATEWAY_CONFIG: writeConfig(GOOD), UPSTREAM_KEY: SECRET });
    expect(code).toBe(0);
  });

  it('validate: a bad config exits 1 naming key, file:line:column and what is expected, without a stack trace', async () => {
    const path = writeConfig(GOOD.replace('url: http://127.0.0.1:3000/mcp', 'url: 3000\n  timeoutMs: 5'));
    const { code, stderr, stdout } = await run(['validate', '--config', path], { UPSTREAM_KEY: SECRET });
    expect(code).toBe(1);
    expect(stderr).toContain(`${path}:7:8: upstream.url: expected an absolute http(s) URL for upstream.url`);
    expect(stderr).toContain(`${path}:8:3: upstream.timeoutMs: unknown key`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('serve: a bad config exits 1 before listening, without a stack trace', async () => {
    const { code, stderr } = await run(['serve', '--config', writeConfig(GOOD)], {});
    expect(code).toBe(1);
    expect(stderr).toContain('environment variable UPSTREAM_KEY is not set');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('serve: an upstream credential the authorization server refuses exits 1 at start-up, naming the key, without a stack trace', async () => {
    const as = await startDemoAuthorizationServer({
      resources: [{ resource: 'http://127.0.0.1:1/upstream', scopes: ['tickets:read'] }],
      clients: [{ client_id: 'mcp-gateway', client_secret: 'the-right-secret-0123456789', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
    });
    try {
      const path = writeConfig(`
listen: { port: 0 }
resource: { url: http://127.0.0.1:1/mcp }
authorizationServers: [{ issuer: ${as.issuer} }]
upstream:
  url: http://127.0.0.1:1/upstream
  credential:
    type: client_credentials
    issuer: ${as.issuer}
    clientId: mcp-gateway
    clientSecret: \${env:UPSTREAM_KEY}
    resource: http://127.0.0.1:1/upstream
`);
      const { code, stderr, stdout } = await run(['serve', '--config', path], { UPSTREAM_KEY: SECRET });
      expect(code).toBe(1);
      expect(stderr).toMatch(/upstream\.credential\.clientId: token endpoint .* refused the request \(invalid_client/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout + stderr).not.toContain(SECRET);
    } finally {
      await as.close();
    }
  });

  it('a missing config file exits 1 with its path; no config at all is a usage error (2)', async () => {
    const missing = await run(['validate', '--config', '/nonexistent/gateway.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read config file /nonexistent/gateway.yaml (ENOENT)');
    const none = await run(['validate']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--config');
    const unknown = await run(['frobnicate', '--config', 'x']);
    expect(unknown.code).toBe(2);
  });

  it('apikey generate: prints a new key once and a config entry holding only its hash, valid for validate', async () => {
    const { code, stdout } = await run(['apikey', 'generate', '--name', 'ci-bot', '--scope', 'tickets:read', '--scope', 'tickets:write']);
    expect(code).toBe(0);
    const key = /^\s+(mgw_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1];
    expect(key).toBeDefined();
    const entry = stdout.slice(stdout.indexOf('  - name:'));
    expect(entry).not.toContain(key);
    const [parsed] = parse(entry) as Array<{ name: string; hash: string; scopes: string[] }>;
    expect(parsed).toEqual({ name: 'ci-bot', hash: `sha256:${createHash('sha256').update(key!).digest('base64url')}`, scopes: ['tickets:read', 'tickets:write'] });
    // The entry goes into a config as printed.
    const valid = await run(['validate', '--config', writeConfig(`${GOOD}apiKeys:\n${entry}`)], { UPSTREAM_KEY: SECRET });
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('api keys:   ci-bot');
    expect(valid.stdout).not.toContain(parsed!.hash);
    // A second run makes another key.
    expect((await run(['apikey', 'generate', '--name', 'ci-bot'])).stdout).not.toContain(key);
  });

  it('apikey: a missing or invalid --name, or no subcommand, is a usage error (2)', async () => {
    expect((await run(['apikey', 'generate'])).code).toBe(2);
    const bad = await run(['apikey', 'generate', '--name', 'ci bot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--name: expected a name');
    expect(bad.stdout).toBe('');
    expect((await run(['apikey'])).code).toBe(2);
    expect((await run(['apikey', '--help'])).stdout).toContain('Usage: mcp-auth-gateway apikey generate');
  });
});
