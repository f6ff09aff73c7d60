/** The upstream credential, mTLS and identity sections of the config: accepted forms and start-up messages. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../../src/config/index.js';
import { httpUpstream } from '../../helpers/http-upstream.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url), 'utf8');
const FILES: Record<string, string> = {
  '/secrets/client.crt': fixture('client.crt'),
  '/secrets/client.key': fixture('client.key'),
  '/secrets/server.key': fixture('server.key'),
  '/secrets/ca.crt': fixture('ca.crt'),
};
const ENV = { GATEWAY_SECRET: 'gateway-secret-value-123' };

const BASE = `
resource:
  url: https://mcp.example.com/mcp
authorizationServers:
  - issuer: https://auth.example.com
`;

function load(text: string) {
  return parseConfigText(`${BASE}${text}`, 'gateway.yaml', {
    env: ENV,
    readFile: (path) => {
      const content = FILES[path];
      if (content === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return content;
    },
  });
}

function problems(text: string): string {
  try {
    load(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the config to be rejected');
}

const CLIENT_CREDENTIALS = `
upstream:
  url: https://upstream.internal/mcp
  credential:
    type: client_credentials
    issuer: https://auth.example.com
    clientId: mcp-gateway
    clientSecret: \${env:GATEWAY_SECRET}
    resource: https://upstream.internal/mcp
`;

describe('upstream credential config', () => {
  it('accepts client credentials with defaults, and the Foundation static form without type', () => {
    expect(httpUpstream(load(CLIENT_CREDENTIALS)).credential).toEqual({
      type: 'client_credentials',
      issuer: 'https://auth.example.com',
      clientId: 'mcp-gateway',
      clientSecret: ENV.GATEWAY_SECRET,
      resource: 'https://upstream.internal/mcp',
      clientAuthentication: 'client_secret_basic',
      refreshBeforeExpirySeconds: 60,
      timeoutMs: 5000,
      failureCooldownMs: 1000,
    });
    expect(httpUpstream(load('upstream:\n  url: http://u/mcp\n  credential:\n    header: X-API-Key\n    value: k\n')).credential).toEqual({ type: 'static', header: 'X-API-Key', value: 'k' });
  });

  it('accepts token exchange with private_key_jwt from a file', () => {
    const credential = httpUpstream(load(`
upstream:
  url: https://upstream.internal/mcp
  credential:
    type: token_exchange
    tokenEndpoint: https://auth.example.com/oauth/token
    clientId: mcp-gateway
    clientAuthentication: private_key_jwt
    privateKey: \${file:/secrets/client.key}
    audience: tickets-api
`)).credential;
    expect(credential).toMatchObject({ type: 'token_exchange', cacheMaxEntries: 10000, audience: 'tickets-api' });
  });

  it.each([
    ['an unknown type', CLIENT_CREDENTIALS.replace('type: client_credentials', 'type: kerberos'), /upstream\.credential\.type: expected type: static \(or omitted\), client_credentials or token_exchange/],
    ['neither issuer nor token endpoint', CLIENT_CREDENTIALS.replace('    issuer: https://auth.example.com\n', ''), /upstream\.credential\.issuer: set issuer \(token endpoint discovered\) or tokenEndpoint/],
    ['a secret method without a secret', CLIENT_CREDENTIALS.replace('    clientSecret: ${env:GATEWAY_SECRET}\n', ''), /upstream\.credential\.clientSecret: required for clientAuthentication client_secret_basic/],
    ['private_key_jwt with a secret and no key', CLIENT_CREDENTIALS.replace('clientId: mcp-gateway', 'clientId: mcp-gateway\n    clientAuthentication: private_key_jwt'), /upstream\.credential\.clientSecret: not used with clientAuthentication private_key_jwt[\s\S]*upstream\.credential\.privateKey: required/],
    ['a private key that is not one', CLIENT_CREDENTIALS.replace('clientSecret: ${env:GATEWAY_SECRET}', 'clientAuthentication: private_key_jwt\n    privateKey: ${env:GATEWAY_SECRET}'), /gateway\.yaml:\d+:\d+: upstream\.credential\.privateKey: not a PEM private key or a private JWK/],
    ['token exchange without a target', CLIENT_CREDENTIALS.replace('client_credentials', 'token_exchange').replace('    resource: https://upstream.internal/mcp\n', ''), /upstream\.credential\.resource: token exchange needs a target/],
    ['a key of another form', CLIENT_CREDENTIALS.replace('clientId: mcp-gateway', 'clientId: mcp-gateway\n    header: X-API-Key'), /upstream\.credential\.header: unknown key \(allowed here: type, issuer, tokenEndpoint, clientId,/],
  ])('rejects %s, naming the key', (_name, text, expected) => {
    const message = problems(text);
    expect(message).toMatch(expected);
    expect(message).not.toContain(ENV.GATEWAY_SECRET);
  });
});

describe('upstream TLS config', () => {
  const TLS = `
upstream:
  url: https://upstream.internal/mcp
  tls:
    clientCertificate: \${file:/secrets/client.crt}
    clientKey: \${file:/secrets/client.key}
    ca: \${file:/secrets/ca.crt}
`;
  it('accepts a client certificate with its key and a CA', () => {
    expect(httpUpstream(load(TLS)).tls?.clientCertificate).toContain('BEGIN CERTIFICATE');
  });

  it.each([
    ['a key that does not match the certificate', TLS.replace('/secrets/client.key', '/secrets/server.key'), /upstream\.tls\.clientKey: does not match clientCertificate/],
    ['a certificate without its key', TLS.replace('    clientKey: ${file:/secrets/client.key}\n', ''), /upstream\.tls\.clientKey: clientCertificate and clientKey go together/],
    ['a CA that is not a certificate', TLS.replace('ca: ${file:/secrets/ca.crt}', 'ca: nope'), /upstream\.tls\.ca: not a PEM certificate/],
    ['an http upstream', TLS.replace('url: https://', 'url: http://'), /upstream\.tls: TLS settings need an https upstream\.url/],
  ])('rejects %s', (_name, text, expected) => {
    expect(problems(text)).toMatch(expected);
  });
});

describe('identity config', () => {
  const IDENTITY = `
upstream:
  url: http://upstream.internal/mcp
  credential:
    header: X-API-Key
    value: k
identity:
  headers:
    X-MCP-User: "{sub}"
    X-MCP-Client: "{client_id}"
  jwt:
    keys:
      - privateKey: \${file:/secrets/client.key}
      - privateKey: \${file:/secrets/server.key}
        activeFrom: 2026-08-01T00:00:00Z
`;
  it('accepts headers and JWT keys, with defaults', () => {
    const { identity } = load(IDENTITY);
    expect(identity.headers).toEqual({ 'X-MCP-User': '{sub}', 'X-MCP-Client': '{client_id}' });
    expect(identity.jwt).toMatchObject({ header: 'X-MCP-Identity', ttlSeconds: 60, retiredKeyPublishSeconds: 900 });
    expect(load('upstream:\n  url: http://u/mcp\n').identity).toEqual({ headers: {} });
  });

  it.each([
    ['a template with a stray brace', IDENTITY.replace('"{sub}"', '"{sub"'), /identity\.headers\.X-MCP-User: expected text with \{claim\} placeholders/],
    ['a protocol header', IDENTITY.replace('X-MCP-Client:', 'Mcp-Session-Id:'), /identity\.headers\.Mcp-Session-Id: mcp-session-id is a protocol header/],
    ['the credential header', IDENTITY.replace('X-MCP-Client:', 'x-api-key:'), /identity\.headers\.x-api-key: x-api-key already carries the upstream credential/],
    ['a header set twice', IDENTITY.replace('X-MCP-Client:', 'x-mcp-user:'), /x-mcp-user is set twice/],
    ['the JWT header colliding with a header', IDENTITY.replace('  jwt:\n', '  jwt:\n    header: X-MCP-User\n'), /identity\.jwt\.header: x-mcp-user is set twice/],
    ['a TTL over 60 s', IDENTITY.replace('  jwt:\n', '  jwt:\n    ttlSeconds: 300\n'), /identity\.jwt\.ttlSeconds: Too big/],
    ['two keys without activeFrom', IDENTITY.replace('        activeFrom: 2026-08-01T00:00:00Z\n', ''), /identity\.jwt\.keys: at most one key may omit activeFrom/],
    ['a malformed activeFrom', IDENTITY.replace('2026-08-01T00:00:00Z', 'next tuesday'), /identity\.jwt\.keys\[1\]\.activeFrom: expected an ISO 8601 date-time/],
    ['an algorithm that does not fit the key', IDENTITY.replace('      - privateKey: ${file:/secrets/client.key}\n', '      - privateKey: ${file:/secrets/client.key}\n        algorithm: RS256\n'), /identity\.jwt\.keys\[0\]\.privateKey: algorithm RS256 does not fit this key/],
  ])('rejects %s', (_name, text, expected) => {
    expect(problems(text)).toMatch(expected);
  });
});
