/** The authorizationServer (facade) section: accepted forms, defaults and start-up messages. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, facadeIssuer, parseConfigText } from '../../../src/config/index.js';
import { buildProtectedResourceMetadata } from '../../../src/discovery/index.js';

const KEY = readFileSync(new URL('../../fixtures/tls/server.key', import.meta.url), 'utf8');

const config = (facade: string, extra = '') => `
resource:
  url: https://mcp.example.com/mcp
upstream:
  url: http://127.0.0.1:3000/mcp
${extra}
authorizationServer:
${facade}`;

const MINIMAL = `  identityProvider:
    issuer: https://login.example.com/tenant/v2.0
    clientId: gateway
    clientSecret: \${env:IDP_SECRET}
  signingKeys:
    - privateKey: \${file:/secrets/facade.key}
  scopes: [tickets:read, tickets:write]
  storage:
    directory: data
`;

function load(text: string) {
  return parseConfigText(text, '/etc/mcp-gateway/gateway.yaml', {
    env: { IDP_SECRET: 'idp-secret-value' },
    readFile: (path) => {
      if (path === '/secrets/facade.key') return KEY;
      throw Object.assign(new Error('missing'), { code: 'ENOENT' });
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

describe('authorization server facade config', () => {
  it('needs no authorizationServers, defaults the issuer to the resource origin, resolves the data directory', () => {
    const loaded = load(config(MINIMAL));
    expect(loaded.authorizationServers).toEqual([]);
    expect(facadeIssuer(loaded)).toBe('https://mcp.example.com');
    expect(loaded.authorizationServer!.storage.directory).toBe('/etc/mcp-gateway/data');
    expect(loaded.authorizationServer!.identityProvider).toMatchObject({ scopes: ['openid', 'profile', 'email'], subjectClaim: 'sub', clientAuthentication: 'client_secret_basic' });
    expect(loaded.authorizationServer!.clientIdMetadataDocuments).toMatchObject({ enabled: true, maxBytes: 5120, timeoutMs: 5000 });
    expect(loaded.authorizationServer!.dynamicRegistration).toEqual({ enabled: true, maxClients: 10_000 });
  });

  it('points the protected resource metadata at the facade alone', () => {
    const loaded = load(config(MINIMAL, 'authorizationServers:\n  - issuer: https://machines.example.com'));
    expect(buildProtectedResourceMetadata(loaded, []).authorization_servers).toEqual(['https://mcp.example.com']);
  });

  it('still wants an authorization server when there is no facade', () => {
    expect(problems('resource:\n  url: https://mcp.example.com/mcp\nupstream:\n  url: http://127.0.0.1:3000/mcp\n')).toMatch(/authorizationServers: expected at least one authorization server/);
  });

  it.each([
    ['a plain http issuer off loopback', MINIMAL.replace('  identityProvider:', '  issuer: http://mcp.example.com\n  identityProvider:'), /authorizationServer\.issuer: must be https/],
    ['an issuer with a query', MINIMAL.replace('  identityProvider:', '  issuer: https://mcp.example.com/?x=1\n  identityProvider:'), /no query or fragment/],
    ['no openid scope at the identity provider', MINIMAL.replace('    clientId: gateway', '    clientId: gateway\n    scopes: [email]'), /identityProvider\.scopes: must include openid/],
    ['no client secret', MINIMAL.replace('    clientSecret: ${env:IDP_SECRET}\n', ''), /identityProvider\.clientSecret: required for clientAuthentication client_secret_basic/],
    ['copying a claim the gateway sets', MINIMAL.replace('    clientId: gateway', '    clientId: gateway\n    claims: [groups, aud]'), /identityProvider\.claims\[1\]: aud is set by the gateway/],
    ['offline_access among the scopes', MINIMAL.replace('[tickets:read, tickets:write]', '[tickets:read, offline_access]'), /authorizationServer\.scopes: offline_access needs no listing/],
    ['a retired key published shorter than tokens live', `${MINIMAL}  accessTokenTtlSeconds: 600\n  retiredKeyPublishSeconds: 300\n`, /retiredKeyPublishSeconds: must be at least accessTokenTtlSeconds/],
    ['a bad host pattern', `${MINIMAL}  clientIdMetadataDocuments:\n    allowedHosts: ["https://x.example.com"]\n`, /allowedHosts\[0\]: expected a lowercase host name/],
    ['an http testing origin', `${MINIMAL}  clientIdMetadataDocuments:\n    insecureTestingLoopback:\n      origins: [http://localhost:9443]\n`, /expected an https origin/],
    ['an unusable signing key', MINIMAL.replace('${file:/secrets/facade.key}', 'not a key'), /signingKeys\[0\]\.privateKey: not a PEM private key/],
  ])('refuses %s, naming the key', (_name, facade, message) => {
    expect(problems(config(facade))).toMatch(message);
  });

  it('refuses the facade issuer also listed as an authorization server', () => {
    expect(problems(config(MINIMAL, 'authorizationServers:\n  - issuer: https://mcp.example.com'))).toMatch(/authorizationServer\.issuer: the facade issuer is also listed/);
  });

  it('allows plain http on loopback, for local development', () => {
    const text = config(MINIMAL.replace('  identityProvider:', '  issuer: http://127.0.0.1:8080\n  identityProvider:')).replace('https://mcp.example.com/mcp', 'http://127.0.0.1:8080/mcp');
    expect(facadeIssuer(load(text))).toBe('http://127.0.0.1:8080');
  });

  it('never prints the client secret', () => {
    expect(problems(config(MINIMAL.replace('    clientId: gateway', '    clientId: ""')))).not.toContain('idp-secret-value');
  });
});
