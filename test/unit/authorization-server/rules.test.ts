import { describe, expect, it } from 'vitest';
import { parseCacheLifetimeSeconds } from '../../../src/authorization-server/cimd/cache-lifetime.js';
import { describeClientIdUrlProblem } from '../../../src/authorization-server/cimd/client-id-url.js';
import { createHostPolicy } from '../../../src/authorization-server/cimd/host-policy.js';
import { isLoopbackAddress, isPublicAddress } from '../../../src/authorization-server/cimd/special-use-addresses.js';
import { parseClientMetadata } from '../../../src/authorization-server/client-metadata.js';
import { OAuthError } from '../../../src/authorization-server/oauth-error.js';
import { describeRedirectUriProblem, inferApplicationType } from '../../../src/authorization-server/redirect-uri.js';
import { sha256, verifyPkce } from '../../../src/authorization-server/secrets.js';

describe('special-use addresses (CIMD SSRF guard)', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '0.0.0.0', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '192.0.0.170', '198.18.0.1', '224.0.0.1', '255.255.255.255', '240.0.0.1', '203.0.113.5',
    '::1', '::', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1',
    '2001:db8::1', '2002:c0a8:0101::1', '2001:0:4136:e378::1', '100::1', 'not-an-ip', '',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e'])('accepts the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('the testing allowance knows loopback only, not mapped or private forms', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(false);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(isLoopbackAddress('169.254.169.254')).toBe(false);
  });
});

describe('client id URLs', () => {
  it.each([
    ['http://app.example.com/client.json', /https/],
    ['https://app.example.com/', /path/],
    ['https://app.example.com', /path/],
    ['https://user:pw@app.example.com/c', /user information/],
    ['https://app.example.com/c#x', /fragment/],
    ['https://app.example.com/c?x=1', /query/],
    ['https://App.Example.com/c', /normalised/],
    ['https://app.example.com:443/c', /normalised/],
    ['https://app.example.com/a/../c', /normalised/],
    ['not a url', /https/],
  ])('refuses %s', (url, problem) => {
    expect(describeClientIdUrlProblem(url)).toMatch(problem);
  });

  it('accepts a normalised https URL with a path', () => {
    expect(describeClientIdUrlProblem('https://app.example.com/oauth/client.json')).toBeUndefined();
    expect(describeClientIdUrlProblem('https://app.example.com:8443/c')).toBeUndefined();
  });
});

describe('host trust policy', () => {
  const policy = createHostPolicy({ allowedHosts: ['*.example.com', 'tools.test'], deniedHosts: ['evil.example.com'] });
  it.each([
    ['app.example.com', true],
    ['a.b.example.com', true],
    ['example.com', false],
    ['evil.example.com', false],
    ['tools.test', true],
    ['notexample.com', false],
    ['APP.EXAMPLE.COM', true],
  ])('%s → %s', (host, allowed) => {
    expect(policy(host)).toBe(allowed);
  });

  it('allows every host not denied when the allow list is empty', () => {
    const open = createHostPolicy({ allowedHosts: [], deniedHosts: ['*.bad.test'] });
    expect(open('anything.test')).toBe(true);
    expect(open('x.bad.test')).toBe(false);
  });
});

describe('cache lifetime of documents', () => {
  it.each([
    [{ cacheControl: 'max-age=600' }, 600],
    [{ cacheControl: 'public, s-maxage=60, max-age=600' }, 60],
    [{ cacheControl: 'max-age=600', age: '100' }, 500],
    [{ cacheControl: 'max-age=999999' }, 3600],
    [{ cacheControl: 'no-store, max-age=600' }, 0],
    [{ cacheControl: 'no-cache' }, 0],
    [{ cacheControl: 'private, max-age=600' }, 0],
    [{ expires: 'Thu, 01 Jan 2026 00:10:00 GMT', date: 'Thu, 01 Jan 2026 00:00:00 GMT' }, 600],
    [{ expires: '0', date: 'Thu, 01 Jan 2026 00:00:00 GMT' }, 0],
    [{}, 0],
  ])('%j → %i s', (headers, seconds) => {
    expect(parseCacheLifetimeSeconds(headers, 3600)).toBe(seconds);
  });
});

describe('redirect URIs', () => {
  it.each([
    ['https://app.example.com/cb', 'web', undefined],
    ['https://app.example.com/cb', 'native', undefined],
    ['http://127.0.0.1:3000/callback', 'native', undefined],
    ['http://[::1]:3000/callback', 'native', undefined],
    ['http://localhost/callback', 'native', undefined],
    ['com.example.app:/oauth', 'native', undefined],
    ['http://127.0.0.1:3000/callback', 'web', /native/],
    ['http://app.example.com/cb', 'native', /loopback/],
    ['https://app.example.com/cb#frag', 'web', /fragment/],
    ['https://user@app.example.com/cb', 'web', /user information/],
    ['javascript:alert(1)', 'native', /not allowed/],
    ['data:text/html,x', 'native', /not allowed/],
    ['myapp:/cb', 'native', /reverse domain/],
    ['com.example.app:/oauth', 'web', /native/],
    ['/relative', 'native', /absolute/],
  ] as const)('%s as %s', (uri, type, problem) => {
    const found = describeRedirectUriProblem(uri, type);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('infers native for loopback or app-scheme redirects, web otherwise', () => {
    expect(inferApplicationType(['http://127.0.0.1:8976/callback'])).toBe('native');
    expect(inferApplicationType(['https://app.example.com/cb', 'com.example.app:/cb'])).toBe('native');
    expect(inferApplicationType(['https://app.example.com/cb'])).toBe('web');
  });
});

describe('client metadata', () => {
  const base = { redirect_uris: ['http://127.0.0.1:8976/callback'] };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as OAuthError).code;
    }
    return 'accepted';
  };

  it('normalises a registration the way the MCP SDK sends it', () => {
    expect(parseClientMetadata({ ...base, client_name: 'SDK\u202e client\n', grant_types: ['authorization_code', 'refresh_token', 'implicit'], token_endpoint_auth_method: 'client_secret_post' }, 'registration')).toEqual({
      clientName: 'SDK client',
      redirectUris: base.redirect_uris,
      grantTypes: ['authorization_code', 'refresh_token'],
      applicationType: 'native',
    });
  });

  it.each([
    [{}, 'invalid_redirect_uri'],
    [{ redirect_uris: [] }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['http://evil.example.com/cb'] }, 'invalid_redirect_uri'],
    [{ ...base, application_type: 'web' }, 'invalid_redirect_uri'],
    [{ ...base, application_type: 'desktop' }, 'invalid_client_metadata'],
    [{ ...base, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    [{ ...base, response_types: ['token'] }, 'invalid_client_metadata'],
    [{ ...base, client_name: 42 }, 'invalid_client_metadata'],
    [[], 'invalid_client_metadata'],
  ])('refuses %j', (metadata, expected) => {
    expect(code(() => parseClientMetadata(metadata, 'registration'))).toBe(expected);
  });

  it('a document may not use a shared secret or carry one', () => {
    expect(code(() => parseClientMetadata({ ...base, token_endpoint_auth_method: 'client_secret_basic' }, 'document'))).toBe('invalid_client_metadata');
    expect(code(() => parseClientMetadata({ ...base, token_endpoint_auth_method: 'private_key_jwt' }, 'document'))).toBe('invalid_client_metadata');
    expect(code(() => parseClientMetadata({ ...base, client_secret: 'x' }, 'document'))).toBe('invalid_client_metadata');
    expect(code(() => parseClientMetadata({ ...base, token_endpoint_auth_method: 'none' }, 'document'))).toBe('accepted');
  });
});

describe('PKCE S256', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  it('accepts the matching verifier only', () => {
    const challenge = sha256(verifier);
    expect(challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'); // RFC 7636 Appendix B
    expect(verifyPkce(verifier, challenge)).toBe(true);
    expect(verifyPkce(`${verifier.slice(0, -1)}Y`, challenge)).toBe(false);
    expect(verifyPkce('short', sha256('short'))).toBe(false);
  });
});
