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
