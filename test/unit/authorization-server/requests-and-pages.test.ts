import { describe, expect, it } from 'vitest';
import { checkAuthorizationRequest } from '../../../src/authorization-server/authorization-request.js';
import { BINDING_COOKIE, ensureBinding, readBindingCookie } from '../../../src/authorization-server/browser-binding.js';
import type { OAuthClient } from '../../../src/authorization-server/client-metadata.js';
import { buildFacadeEndpoints } from '../../../src/authorization-server/endpoints.js';
import { buildErrorRedirect, OAuthError } from '../../../src/authorization-server/oauth-error.js';
import { escapeHtml, renderConsentPage } from '../../../src/authorization-server/pages.js';

const CLIENT: OAuthClient = {
  clientId: 'mcp-abc',
  kind: 'registered',
  clientName: 'Tool',
  redirectUris: ['http://127.0.0.1:3000/cb', 'https://app.example.com/cb?x=1'],
  grantTypes: ['authorization_code', 'refresh_token'],
  applicationType: 'native',
};
const rules = {
  clients: {
    resolve: async (id: string) => {
      if (id === CLIENT.clientId) return CLIENT;
      throw new OAuthError('invalid_client', 'Unknown client');
    },
    identify: async (id: string) => id,
  },
  resourceUrl: 'https://mcp.example.com/mcp',
  scopes: new Set(['tickets:read']),
};
const good = { response_type: 'code', client_id: 'mcp-abc', redirect_uri: 'http://127.0.0.1:3000/cb', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', resource: 'https://mcp.example.com/mcp', scope: 'tickets:read offline_access', state: 'st' };
const check = (params: Record<string, string | undefined>) =>
  checkAuthorizationRequest(new URLSearchParams(Object.entries({ ...good, ...params }).filter((entry): entry is [string, string] => entry[1] !== undefined)), rules);

describe('authorization request checks', () => {
  it('accepts a complete request; offline_access is not a resource scope', async () => {
    const result = await check({});
    expect(result).toMatchObject({ ok: true, request: { scopes: ['tickets:read'], redirectUriSent: true, state: 'st', resource: 'https://mcp.example.com/mcp' } });
  });

  it('compares the resource canonically (case of scheme and host, trailing slash)', async () => {
    expect((await check({ resource: 'HTTPS://MCP.example.com/mcp/' })).ok).toBe(true);
    expect((await check({ resource: 'https://mcp.example.com/mcp/other' })).ok).toBe(false);
  });

  it.each([
    [{ client_id: 'mcp-unknown' }, 'invalid_client', false],
    [{ redirect_uri: undefined }, 'invalid_request', false],
    [{ redirect_uri: 'https://app.example.com/cb' }, 'invalid_request', false],
    [{ response_type: 'token' }, 'unsupported_response_type', true],
    [{ code_challenge: 'short' }, 'invalid_request', true],
    [{ code_challenge_method: undefined }, 'invalid_request', true],
    [{ resource: undefined }, 'invalid_target', true],
    [{ scope: 'tickets:read admin' }, 'invalid_scope', true],
    [{ state: 'x'.repeat(2000) }, 'invalid_request', true],
  ])('%j → %s (redirected: %s)', async (params, code, redirected) => {
    const result = await check(params);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.redirect !== undefined).toBe(redirected);
  });

  it('keeps the redirect URI\'s own query and adds error, state and iss', () => {
    const location = new URL(buildErrorRedirect('https://app.example.com/cb?x=1', new OAuthError('access_denied', 'no'), 'st', 'https://mcp.example.com'));
    expect(Object.fromEntries(location.searchParams)).toEqual({ x: '1', error: 'access_denied', error_description: 'no', state: 'st', iss: 'https://mcp.example.com' });
  });
});

describe('endpoints', () => {
  it('derives every path from the issuer, with RFC 8414 path insertion', () => {
    expect(buildFacadeEndpoints('https://mcp.example.com').paths.metadata).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']);
    const withPath = buildFacadeEndpoints('https://gw.example.com/tenant');
    expect(withPath.paths.metadata).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/.well-known/openid-configuration/tenant',
      '/tenant/.well-known/openid-configuration',
    ]);
    expect(withPath.urls.callback).toBe('https://gw.example.com/tenant/oauth/callback');
  });
});

describe('browser binding cookie', () => {
  it('is a __Host- cookie, kept when the browser has one, ignored when malformed', () => {
    const first = ensureBinding(undefined, 600);
    expect(first.setCookie).toBe(`${BINDING_COOKIE}=${first.value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600`);
    expect(ensureBinding(`a=b; ${BINDING_COOKIE}=${first.value}`, 600).value).toBe(first.value);
    expect(readBindingCookie(`${BINDING_COOKIE}=short`)).toBeUndefined();
  });
});

describe('consent page', () => {
  it('escapes every value it shows', () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
    const html = renderConsentPage({
      client: { ...CLIENT, clientName: '"><img src=x onerror=alert(1)>' },
      redirectUri: 'http://127.0.0.1:3000/cb',
      scopes: ['tickets:read'],
      resourceName: 'Tickets',
      resourceUrl: 'https://mcp.example.com/mcp',
      identityProviderHost: 'login.example.com',
      consentAction: 'https://mcp.example.com/oauth/consent',
      requestId: 'r"1',
      csrfToken: 't',
    });
    expect(html).not.toContain('<img');
    expect(html).toContain('value="r&quot;1"');
    expect(html).toContain('self-declared');
  });
});
