import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../../src/config/index.js';

const VALID = `
resource:
  url: https://mcp.example.com/mcp
authorizationServers:
  - issuer: https://auth.example.com
upstream:
  url: http://127.0.0.1:3000/mcp
  credential:
    header: Authorization
    value: Bearer \${env:UPSTREAM_TOKEN}
`;

function problems(text: string, env: Record<string, string> = { UPSTREAM_TOKEN: 'up-secret-123' }): string {
  try {
    parseConfigText(text, 'gateway.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('config loading', () => {
  it('accepts a minimal config and fills every default', () => {
    const config = parseConfigText(VALID, 'gateway.yaml', { env: { UPSTREAM_TOKEN: 'up-secret-123' } });
    expect(config.upstream).toMatchObject({ type: 'http', credential: { type: 'static', value: 'Bearer up-secret-123' } });
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080, trustForwardedHeaders: false });
    expect(config.authorizationServers[0]!.algorithms).not.toContain('HS256');
    expect(config.limits.maxBodyBytes).toBe(4 * 1024 * 1024);
  });

  it('accepts the commented example with every option', () => {
    const text = readFileSync(new URL('../../../gateway.example.yaml', import.meta.url), 'utf8');
    const config = parseConfigText(text, 'gateway.example.yaml', { env: { UPSTREAM_SERVICE_TOKEN: 't', MCP_GATEWAY_SESSION_SECRET: 's' } });
    expect(config.resource.url).toBe('https://mcp.example.com/mcp');
  });

  it.each([
    ['an unknown key', VALID.replace('  url: https://mcp.example.com/mcp', '  url: https://mcp.example.com/mcp\n  urll: x'), /gateway\.yaml:4:3: resource\.urll: unknown key \(allowed here: url, /],
    ['a missing required section', VALID.replace(/upstream:[\s\S]*$/, ''), /gateway\.yaml:\d+:\d+: upstream: required/],
    ['a wrong type', `${VALID}listen:\n  port: eighty\n`, /gateway\.yaml:12:9: listen\.port: expected number, received string/],
    ['a port out of range', `${VALID}listen:\n  port: 70000\n`, /listen\.port: Too big/],
    ['an issuer that is not a URL', VALID.replace('https://auth.example.com', 'auth.example.com'), /gateway\.yaml:5:13: authorizationServers\[0\]\.issuer: expected an absolute http\(s\) URL/],
    ['an empty authorization server list', VALID.replace(/authorizationServers:\n  - issuer: https:\/\/auth.example.com/, 'authorizationServers: []'), /authorizationServers: expected at least one authorization server/],
    ['an invalid header name', VALID.replace('header: Authorization', 'header: "X API Key"'), /upstream\.credential\.header: expected an HTTP header name/],
    ['HS256 without a shared secret', VALID.replace('  - issuer: https://auth.example.com', '  - issuer: https://auth.example.com\n    algorithms: [HS256]'), /authorizationServers\[0\]\.algorithms: HS256\/HS384\/HS512 need authorizationServers\[\]\.sharedSecret/],
    ['an unknown algorithm', VALID.replace('  - issuer: https://auth.example.com', '  - issuer: https://auth.example.com\n    algorithms: [none]'), /authorizationServers\[0\]\.algorithms\[0\]: Invalid option/],
    ['offline_access in the challenge', `${VALID.replace('  url: https://mcp.example.com/mcp', '  url: https://mcp.example.com/mcp\n  challengeScopes: [offline_access]')}`, /resource: offline_access must not be advertised/],
    ['a YAML syntax error', 'resource: [', /gateway\.yaml:1:\d+: /],
    ['a duplicate key', `${VALID}${VALID}`, /gateway\.yaml:\d+:\d+: Map keys must be unique/],
  ])('rejects %s, naming the key and its line:column', (_name, text, expected) => {
    expect(problems(text)).toMatch(expected);
  });

  it('names a missing environment variable without printing any value', () => {
    const message = problems(VALID, {});
    expect(message).toMatch(/gateway\.yaml:10:12: environment variable UPSTREAM_TOKEN is not set/);
  });

  it('never echoes a substituted secret in an error', () => {
    const message = problems(VALID.replace('header: Authorization', 'header: ${env:UPSTREAM_TOKEN}'), { UPSTREAM_TOKEN: 'not a header name secret' });
    expect(message).toMatch(/upstream\.credential\.header/);
    expect(message).not.toContain('not a header name secret');
  });

  it('reads ${file:…} secrets, dropping one trailing newline, and types whole-value references', () => {
    const config = parseConfigText(
      `${VALID}listen:\n  port: \${env:PORT}\n  host: "\${env:HOST}"\n`.replace('Bearer ${env:UPSTREAM_TOKEN}', '${file:/run/secrets/upstream}'),
      'gateway.yaml',
      { env: { PORT: '9090', HOST: '0.0.0.0' }, readFile: (path) => (path === '/run/secrets/upstream' ? 'Bearer from-file\n' : '') },
    );
    expect(config.upstream).toMatchObject({ credential: { type: 'static', value: 'Bearer from-file' } });
    expect(config.listen.port).toBe(9090);
    expect(config.listen.host).toBe('0.0.0.0');
  });

  it('reports an unreadable secret file by path, and keeps $${…} literal', () => {
    expect(problems(VALID.replace('Bearer ${env:UPSTREAM_TOKEN}', '${file:/nope/secret}'), {})).toMatch(/cannot read secret file \/nope\/secret \(ENOENT\)/);
    // A replacer function: in a replacement string `$$` would itself mean `$`.
    const config = parseConfigText(VALID.replace('Bearer ${env:UPSTREAM_TOKEN}', () => 'literal $${env:X}'), 'g.yaml', { env: {} });
    expect(config.upstream).toMatchObject({ credential: { type: 'static', value: 'literal ${env:X}' } });
  });

  describe('upstream types', () => {
    const withUpstream = (upstream: string) => VALID.replace(/upstream:[\s\S]*$/, upstream);

    it('keeps an upstream without a type an HTTP upstream', () => {
      const config = parseConfigText(VALID, 'gateway.yaml', { env: { UPSTREAM_TOKEN: 't' } });
      expect(config.upstream.type).toBe('http');
    });

    it('reads a stdio upstream with its defaults, and resolves cwd against the config file', () => {
      const text = withUpstream('upstream:\n  type: stdio\n  command: node\n  args: [server.js]\n  cwd: servers/tickets\n  sharedSecret:\n    value: ${env:SHARED}\n');
      const config = parseConfigText(text, '/etc/gw/gateway.yaml', { env: { SHARED: 'secret-value' } });
      expect(config.upstream).toMatchObject({
        type: 'stdio',
        command: 'node',
        args: ['server.js'],
        cwd: '/etc/gw/servers/tickets',
        env: {},
        inheritEnv: ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'],
        sharedSecret: { env: 'MCP_GATEWAY_SHARED_SECRET', value: 'secret-value' },
        sessions: { max: 32, idleTimeoutSeconds: 900 },
        restart: { initialDelayMs: 500, maxDelayMs: 30000, maxAttempts: 10 },
        stopTimeoutMs: 5000,
      });
    });

    it('reads a legacy-sse upstream', () => {
      const config = parseConfigText(withUpstream('upstream:\n  type: legacy-sse\n  url: http://127.0.0.1:3000/sse\n'), 'gateway.yaml', { env: {} });
      expect(config.upstream).toMatchObject({ type: 'legacy-sse', url: 'http://127.0.0.1:3000/sse', connectTimeoutMs: 5000 });
    });

    it.each([
      ['a key of another type, naming the keys of this one', 'upstream:\n  type: stdio\n  command: node\n  url: http://x\n', /upstream\.url: unknown key \(allowed here: type, command, args, cwd, env, inheritEnv, sharedSecret, stopTimeoutMs, sessions, /],
      ['an unknown type', 'upstream:\n  type: websocket\n  url: http://x\n', /upstream\.type: expected upstream\.type http \(the default\), stdio or legacy-sse/],
      ['a stdio upstream without a command', 'upstream:\n  type: stdio\n', /upstream\.command: required/],
      ['an invalid environment variable name', 'upstream:\n  type: stdio\n  command: node\n  env:\n    "BAD-NAME": x\n', /upstream\.env\.BAD-NAME: .*environment variable name/],
      ['the shared secret variable set twice', 'upstream:\n  type: stdio\n  command: node\n  env:\n    MCP_GATEWAY_SHARED_SECRET: x\n  sharedSecret:\n    value: y\n', /upstream\.env\.MCP_GATEWAY_SHARED_SECRET: also set by sharedSecret\.env/],
      [
        'identity propagation towards a stdio upstream (it is not called once per request)',
        'upstream:\n  type: stdio\n  command: node\nidentity:\n  headers:\n    X-MCP-User: "{sub}"\n',
        /identity: identity propagation needs an HTTP upstream \(upstream\.type stdio is not called once per request\)/,
      ],
      [
        'token exchange towards a legacy-sse upstream (one connection carries a whole session)',
        'upstream:\n  type: legacy-sse\n  url: http://127.0.0.1:3000/sse\n  credential:\n    type: token_exchange\n    tokenEndpoint: https://as.example.com/token\n    clientId: gw\n    clientSecret: s\n',
        /upstream\.credential\.type: token_exchange needs an HTTP upstream/,
      ],
    ])('rejects %s', (_name, upstream, expected) => {
      expect(problems(withUpstream(upstream), {})).toMatch(expected);
    });
  });
});
