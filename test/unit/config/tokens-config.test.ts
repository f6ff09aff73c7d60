/** The token-related config: per-issuer claim mapping and introspection (and their mistakes). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../../src/config/index.js';

const withIssuer = (issuerLines: string, extra = '') => `
resource:
  url: https://mcp.example.com/mcp
authorizationServers:
  - issuer: https://auth.example.com
${issuerLines}
upstream:
  url: http://127.0.0.1:3000/mcp
${extra}`;

const env = { INTROSPECTION_SECRET: 'introspection-secret-value' };

function problems(text: string): string {
  try {
    parseConfigText(text, 'gateway.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('token config', () => {
  it('fills the claim mapping with the standard claims and introspection with its defaults', () => {
    const config = parseConfigText(
      withIssuer('    introspection:\n      clientId: mcp-gateway\n      clientSecret: ${env:INTROSPECTION_SECRET}'),
      'gateway.yaml',
      { env },
    );
    const server = config.authorizationServers[0]!;
    expect(server.claimMapping).toEqual({ subject: ['sub'], clientId: ['client_id', 'azp'], scopes: ['scope', 'scp'], additionalScopes: [] });
    expect(server.introspection).toEqual({
      clientId: 'mcp-gateway',
      clientSecret: 'introspection-secret-value',
      clientAuthentication: 'client_secret_basic',
      introspectJwts: false,
      timeoutMs: 3000,
      cacheMaxSeconds: 60,
      inactiveCacheSeconds: 5,
      allowMissingAudience: false,
      failureCooldownMs: 1000,
      maxConcurrentRequests: 64,
    });
  });

  it.each([
    ['introspection without a client secret', '    introspection:\n      clientId: mcp-gateway', /authorizationServers\[0\]\.introspection\.clientSecret: /],
    [
      'an introspection-only issuer with a JWKS URL',
      '    jwksUri: https://auth.example.com/jwks\n    introspection:\n      clientId: c\n      clientSecret: ${env:INTROSPECTION_SECRET}\n      introspectJwts: true',
      /authorizationServers\[0\]\.jwksUri: not used when introspection\.introspectJwts is true/,
    ],
    [
      'private_key_jwt for introspection (not supported)',
      '    introspection:\n      clientId: c\n      clientSecret: ${env:INTROSPECTION_SECRET}\n      clientAuthentication: private_key_jwt',
      /introspection\.clientAuthentication: Invalid option/,
    ],
    ['a refusal cache longer than a minute', '    introspection:\n      clientId: c\n      clientSecret: s\n      inactiveCacheSeconds: 600', /introspection\.inactiveCacheSeconds: Too big/],
    ['an empty claim path segment', '    claimMapping:\n      clientId: [realm_access..roles]', /claimMapping\.clientId\[0\]: expected a claim name or a dotted path/],
    ['an empty subject list', '    claimMapping:\n      subject: []', /claimMapping\.subject: Too small/],
  ])('rejects %s, naming the key', (_name, lines, expected) => {
    expect(problems(withIssuer(lines))).toMatch(expected);
  });

  it('never prints the introspection secret in an error', () => {
    const message = problems(withIssuer('    introspection:\n      clientId: c\n      clientSecret: ${env:INTROSPECTION_SECRET}\n      timeoutMs: 1'));
    expect(message).toMatch(/introspection\.timeoutMs/);
    expect(message).not.toContain('introspection-secret-value');
  });
});

describe('apiKeys config', () => {
  const HASH = 'sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU';
  const HEX_OF_SAME = `sha256:${Buffer.from(HASH.slice(7), 'base64url').toString('hex')}`;
  const keys = (entries: string) => withIssuer('', `apiKeys:\n${entries}`);

  it('accepts named, hashed keys and fills scopes', () => {
    const config = parseConfigText(keys(`  - name: ci-bot\n    hash: ${HASH}\n  - name: ops\n    hash: sha256:${'a'.repeat(64)}\n    scopes: [admin]\n    subject: ops@example.com`), 'gateway.yaml', { env });
    expect(config.apiKeys).toEqual([
      { name: 'ci-bot', hash: HASH, scopes: [] },
      { name: 'ops', hash: `sha256:${'a'.repeat(64)}`, scopes: ['admin'], subject: 'ops@example.com' },
    ]);
  });

  it.each([
    ['a key in clear instead of its hash', `  - name: a\n    hash: mgw_secretvalue`, /apiKeys\[0\]\.hash: expected sha256:<base64url or hex digest>; `mcp-auth-gateway apikey generate/],
    ['a short digest', `  - name: a\n    hash: sha256:abcd`, /apiKeys\[0\]\.hash: expected sha256:/],
    ['a duplicate name', `  - name: a\n    hash: ${HASH}\n  - name: a\n    hash: sha256:${'b'.repeat(64)}`, /apiKeys\[1\]\.name: duplicate API key name/],
    ['one hash twice (base64url and hex)', `  - name: a\n    hash: ${HASH}\n  - name: b\n    hash: ${HEX_OF_SAME}`, /apiKeys\[1\]\.hash: the same key hash is configured twice/],
    ['a name with spaces', `  - name: ci bot\n    hash: ${HASH}`, /apiKeys\[0\]\.name: expected a name/],
  ])('rejects %s', (_name, entries, expected) => {
    expect(problems(keys(entries))).toMatch(expected);
  });

  it('refuses API keys together with token exchange (an API-key caller has no token to exchange)', () => {
    const text = keys(`  - name: a\n    hash: ${HASH}`).replace(
      '  url: http://127.0.0.1:3000/mcp\n',
      '  url: http://127.0.0.1:3000/mcp\n  credential:\n    type: token_exchange\n    tokenEndpoint: https://auth.example.com/token\n    clientId: gw\n    clientSecret: s\n    audience: tickets\n',
    );
    expect(problems(text)).toMatch(/apiKeys: API keys cannot be combined with upstream\.credential type token_exchange/);
  });
});
