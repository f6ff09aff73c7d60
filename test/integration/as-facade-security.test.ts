/**
 * The facade's protocol rules and attacks on them, over HTTP with a headless browser, a real
 * identity provider and a real upstream: metadata, registration checks, authorization errors
 * (page vs redirect), consent CSRF, state replay, code replay, refresh token reuse, SSRF on client
 * ID metadata documents, and what the resource side accepts.
 */
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseForm, type HeadlessBrowser } from '../../src/demo/headless-browser.js';
import { startFacadeStack, type FacadeStack } from '../helpers/facade-stack.js';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { craftToken } from '../helpers/tokens.js';

const REDIRECT = 'http://127.0.0.1:8976/callback';
let fixture: HttpsFixture;
let stack: FacadeStack;
let clientId: string;
beforeAll(async () => {
  fixture = await startHttpsFixture();
  stack = await startFacadeStack({ cimdFixture: fixture });
  clientId = (await register({ redirect_uris: [REDIRECT], client_name: 'security test client' })).body.client_id as string;
});
afterAll(async () => {
  await stack?.close();
  await fixture?.close();
});

async function register(metadata: unknown, contentType = 'application/json'): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${stack.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string | undefined>): URL {
  const url = new URL(`${stack.issuer}/oauth/authorize`);
  const defaults = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge_method: 'S256', resource: stack.mcpUrl, scope: 'tickets:read', state: 'client-state-1' };
  for (const [name, value] of Object.entries({ ...defaults, ...params })) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

async function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${stack.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** A whole login through the browser; returns the code and the verifier. */
async function login(browser: HeadlessBrowser = stack.browser(), params: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce();
  const result = await browser.authorize(authorizeUrl({ code_challenge: challenge, ...params }), REDIRECT);
  return { ...result, verifier };
}

async function tokensFor(code: string, verifier: string) {
  return token({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: stack.mcpUrl });
}

describe('metadata', () => {
  it('serves RFC 8414 metadata at every discovery path, its issuer the one the PRM names', async () => {
    const prm = (await (await fetch(`${stack.issuer}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    expect(prm.authorization_servers).toEqual([stack.issuer]);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const response = await fetch(`${stack.issuer}${path}`);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toMatchObject({
        issuer: stack.issuer,
        authorization_endpoint: `${stack.issuer}/oauth/authorize`,
        token_endpoint: `${stack.issuer}/oauth/token`,
        registration_endpoint: `${stack.issuer}/oauth/register`,
        jwks_uri: `${stack.issuer}/oauth/jwks`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        client_id_metadata_document_supported: true,
        authorization_response_iss_parameter_supported: true,
        scopes_supported: ['tickets:read', 'tickets:write', 'tickets:triage', 'admin'],
      });
    }
    const jwks = (await (await fetch(`${stack.issuer}/oauth/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('dynamic registration', () => {
  it('returns the registered metadata, public client, inferred native type', async () => {
    const { status, body, headers } = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic', client_name: 'x' });
    expect(status).toBe(201);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] });
    expect(body).not.toHaveProperty('client_secret');
  });

  it.each([
    ['a non-loopback http redirect', { redirect_uris: ['http://evil.example.com/cb'] }, 'invalid_redirect_uri'],
    ['a loopback redirect for a web app', { redirect_uris: [REDIRECT], application_type: 'web' }, 'invalid_redirect_uri'],
    ['a fragment', { redirect_uris: ['https://app.example.com/cb#x'] }, 'invalid_redirect_uri'],
    ['a javascript: redirect', { redirect_uris: ['javascript:alert(1)'], application_type: 'native' }, 'invalid_redirect_uri'],
    ['no redirect URIs', {}, 'invalid_redirect_uri'],
    ['client credentials', { redirect_uris: [REDIRECT], grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    ['broken JSON', '{not json', 'invalid_client_metadata'],
    ['a 70 KB body', JSON.stringify({ pad: 'x'.repeat(70_000) }), 'invalid_request'],
  ])('refuses %s with %s', async (_name, metadata, error) => {
    const { status, body } = await register(metadata);
    expect(status).toBe(400);
    expect(body.error).toBe(error);
  });

  it('refuses a form body', async () => {
    expect((await register('redirect_uris=x', 'application/x-www-form-urlencoded')).body.error).toBe('invalid_request');
  });
});

describe('authorization request errors', () => {
  async function open(url: URL) {
    return fetch(url, { redirect: 'manual' });
  }

  it.each([
    ['an unknown client', () => authorizeUrl({ client_id: 'mcp-nobody' })],
    ['no client', () => authorizeUrl({ client_id: undefined })],
    ['a redirect URI that is not registered', () => authorizeUrl({ redirect_uri: 'http://127.0.0.1:9999/elsewhere' })],
    ['a redirect URI differing only in port', () => authorizeUrl({ redirect_uri: 'http://127.0.0.1:8977/callback' })],
    ['a repeated client_id', () => {
      const url = authorizeUrl({});
      url.searchParams.append('client_id', 'mcp-other');
      return url;
    }],
  ])('%s gets an error page, never a redirect', async (_name, url) => {
    const response = await open(url());
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
  });

  it.each([
    ['no resource', { resource: undefined }, 'invalid_target'],
    ['another resource', { resource: 'https://other.example.com/mcp' }, 'invalid_target'],
    ['no PKCE', { code_challenge: undefined }, 'invalid_request'],
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['the token response type', { response_type: 'token' }, 'unsupported_response_type'],
    ['an unknown scope', { scope: 'tickets:read root' }, 'invalid_scope'],
  ])('%s is redirected back with the error, state and iss', async (_name, params, error) => {
    const response = await open(authorizeUrl({ code_challenge: pkce().challenge, ...params }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('client-state-1');
    expect(location.searchParams.get('iss')).toBe(stack.issuer);
  });

  it('accepts offline_access without putting it into the token', async () => {
    const { code, verifier } = await login(undefined, { scope: 'tickets:read offline_access' });
    const { body } = await tokensFor(code!, verifier);
    expect(body.scope).toBe('tickets:read');
  });
});

describe('consent', () => {
  it('is a framing-proof page with a __Host- cookie, shown before the identity provider', async () => {
    const response = await fetch(authorizeUrl({ code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^__Host-mcp-auth-binding=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const html = await response.text();
    expect(html).toContain('security test client');
    expect(html).toContain('<code>tickets:read</code>');
    expect(html).toContain(new URL(stack.idp.issuer).host);
  });

  it('escapes what the client declared', async () => {
    const { body } = await register({ redirect_uris: [REDIRECT], client_name: '<script>alert(1)</script>' });
    const url = authorizeUrl({ client_id: body.client_id as string, code_challenge: pkce().challenge });
    const html = await (await fetch(url)).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it.each([
    ['a wrong CSRF token', (page: { fields: Record<string, string> }) => (page.fields.csrf_token = 'x'.repeat(43))],
    ['no CSRF token', (page: { fields: Record<string, string> }) => delete page.fields.csrf_token],
  ])('is refused with %s, without any redirect', async (_name, tamper) => {
    const browser = stack.browser({ onConsentPage: tamper });
    const idpBefore = stack.idp.tokenRequests.length;
    await expect(login(browser)).rejects.toMatchObject({ code: 'http_403' });
    expect(browser.visited.some((url) => url.origin === new URL(stack.idp.issuer).origin)).toBe(false);
    expect(stack.idp.tokenRequests.length).toBe(idpBefore);
  });

  it('is refused from a browser without the binding cookie (a cross-site POST), while the genuine one still works', async () => {
    const genuine = stack.browser();
    const page = await genuine.send(authorizeUrl({ code_challenge: pkce().challenge }));
    const form = parseForm(await page.text(), new URL(stack.issuer))!;
    const body = new URLSearchParams({ ...form.fields, decision: 'approve' });
    // An attacker page that somehow knew the fields posts them from the victim's browser without the cookie:
    const forged = await stack.browser().send(form.action, 'POST', body);
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
    // The request is still pending for the browser it belongs to.
    const real = await genuine.send(form.action, 'POST', body);
    expect(real.status).toBe(303);
    expect(new URL(real.headers.get('location')!).origin).toBe(new URL(stack.idp.issuer).origin);
    // And the same form cannot be submitted twice.
    expect((await genuine.send(form.action, 'POST', body)).status).toBe(400);
  });

  it('is refused when posted from another origin', async () => {
    const browser = stack.browser();
    const page = await browser.send(authorizeUrl({ code_challenge: pkce().challenge }));
    const form = parseForm(await page.text(), new URL(stack.issuer))!;
    const jar = [...browser.cookies.get(stack.issuer)!].map(([name, value]) => `${name}=${value}`).join('; ');
    const forged = await fetch(form.action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar, origin: 'https://evil.example.com' },
      body: new URLSearchParams({ ...form.fields, decision: 'approve' }),
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
  });

  it('deny goes back to the client with access_denied and iss, never to the identity provider', async () => {
    const browser = stack.browser({ decision: 'deny' });
    const result = await login(browser);
    expect(result).toMatchObject({ error: 'access_denied', state: 'client-state-1', iss: stack.issuer });
    expect(browser.visited.some((url) => url.origin === new URL(stack.idp.issuer).origin)).toBe(false);
  });
});

describe('the login at the identity provider', () => {
  it('state is single-use and bound to the browser that consented', async () => {
    const browser = stack.browser();
    // Stop at the gateway's callback, as an attacker who intercepted it would.
    const intercepted = await browser.authorize(authorizeUrl({ code_challenge: pkce().challenge }), `${stack.issuer}/oauth/callback`);
    const callback = new URL(`${stack.issuer}/oauth/callback`);
    for (const [name, value] of Object.entries(intercepted)) callback.searchParams.set(name, value);

    // Another browser (no binding cookie) cannot use it…
    const foreign = await stack.browser().send(callback);
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('location')).toBeNull();
    // …and it was used up: the genuine browser cannot replay it either.
    const replayed = await browser.send(callback);
    expect(replayed.status).toBe(400);
    expect(replayed.headers.get('location')).toBeNull();
  });

  it('a replayed callback (same state) after a completed login is refused', async () => {
    const browser = stack.browser();
    const { code } = await login(browser);
    expect(code).toBeTruthy();
    const callback = browser.visited.find((url) => url.pathname === '/oauth/callback')!;
    const replayed = await browser.send(callback);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain('no longer valid');
  });

  it('every authorization response carries iss, and the code only works once', async () => {
    const { code, verifier, iss, state } = await login();
    expect(iss).toBe(stack.issuer);
    expect(state).toBe('client-state-1');
    const first = await tokensFor(code!, verifier);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const refreshToken = first.body.refresh_token as string;

    const replay = await tokensFor(code!, verifier);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // RFC 6749 §4.1.2: what the first redemption issued is revoked.
    expect((await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })).body.error).toBe('invalid_grant');
  });
});

describe('token endpoint', () => {
  it.each([
    ['a wrong PKCE verifier', (form: Record<string, string>) => (form.code_verifier = pkce().verifier), 400, 'invalid_grant'],
    ['another redirect URI', (form: Record<string, string>) => (form.redirect_uri = 'http://127.0.0.1:8976/other'), 400, 'invalid_grant'],
    ['another resource', (form: Record<string, string>) => (form.resource = 'https://other.example.com/mcp'), 400, 'invalid_target'],
    ['another client', (form: Record<string, string>) => (form.client_id = 'mcp-nobody'), 401, 'invalid_client'],
    ['no client', (form: Record<string, string>) => delete form.client_id, 401, 'invalid_client'],
    ['an unknown grant type', (form: Record<string, string>) => (form.grant_type = 'password'), 400, 'unsupported_grant_type'],
    ['a client secret', (form: Record<string, string>) => (form.client_secret = 'guess'), 401, 'invalid_client'],
  ])('refuses %s', async (_name, change, status, error) => {
    const { code, verifier } = await login();
    const form: Record<string, string> = { grant_type: 'authorization_code', code: code!, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT, resource: stack.mcpUrl };
    change(form);
    const response = await token(form);
    expect(response.status).toBe(status);
    expect(response.body.error).toBe(error);
    expect(JSON.stringify(response.body)).not.toContain(code!);
  });

  it('answers malformed requests with OAuth errors, not crashes', async () => {
    expect((await token({ grant_type: 'authorization_code' }, { 'content-type': 'application/json' })).body.error).toBe('invalid_request');
    const repeated = await fetch(`${stack.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&grant_type=authorization_code' });
    expect(((await repeated.json()) as { error: string }).error).toBe('invalid_request');
    const basic = await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: 'Basic eDp5' });
    expect(basic).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const huge = await token({ grant_type: 'x'.repeat(70_000) });
    expect(huge.body.error).toBe('invalid_request');
    const get = await fetch(`${stack.issuer}/oauth/token`);
    expect(get.status).toBe(400);
  });

  it('rotates refresh tokens; reuse of a rotated one revokes the whole family', async () => {
    const { code, verifier } = await login();
    const first = (await tokensFor(code!, verifier)).body;
    const refresh = (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource: stack.mcpUrl });

    const second = await refresh(first.refresh_token as string);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.scope).toBe('tickets:read');

    // The first token again: reuse. The family dies, including the current token.
    expect(await refresh(first.refresh_token as string)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await refresh(second.body.refresh_token as string)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(stack.logOutput()).toContain('refresh token reuse detected');
    expect(stack.logOutput()).not.toContain(first.refresh_token as string);
  });

  it('a refresh may narrow the scope, never widen it (without using the token up); another client cannot use the token', async () => {
    const { code, verifier } = await login(undefined, { scope: 'tickets:read tickets:write' });
    const first = (await tokensFor(code!, verifier)).body;
    const refresh = (form: Record<string, string>) => token({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string, client_id: clientId, ...form });
    expect((await refresh({ scope: 'tickets:read admin' })).body.error).toBe('invalid_scope');
    expect((await refresh({ resource: 'https://other.example.com/mcp' })).body.error).toBe('invalid_target');
    const narrowed = await refresh({ scope: 'tickets:read' });
    expect(narrowed.body.scope).toBe('tickets:read');

    const other = (await register({ redirect_uris: [REDIRECT] })).body.client_id as string;
    const stolen = await token({ grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token as string, client_id: other });
    expect(stolen.body.error).toBe('invalid_grant');
    // Presented by another client, the family is revoked for its own client too.
    expect((await token({ grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token as string, client_id: clientId })).body.error).toBe('invalid_grant');
  });

  it('revocation (RFC 7009) ends a refresh token family', async () => {
    const { code, verifier } = await login();
    const tokens = (await tokensFor(code!, verifier)).body;
    const revoked = await fetch(`${stack.issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token as string, client_id: clientId }),
    });
    expect(revoked.status).toBe(200);
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: clientId })).body.error).toBe('invalid_grant');
  });
});

describe('the resource side', () => {
  async function callTool(accessToken: string) {
    return mcpPost(stack.mcpUrl, INITIALIZE, bearer(accessToken));
  }

  it('accepts the facade tokens, and refuses forged, foreign-audience and identity-provider tokens', async () => {
    const { code, verifier } = await login();
    const accessToken = (await tokensFor(code!, verifier)).body.access_token as string;
    expect((await callTool(accessToken)).status).toBe(200);

    const key = createPrivateKey(stack.signingKeyPem);
    const now = Math.floor(Date.now() / 1000);
    const craft = (claims: Record<string, unknown>, typ = 'at+jwt') =>
      new SignJWT({ sub: 'alice', client_id: clientId, scope: 'tickets:read', ...claims })
        .setProtectedHeader({ alg: 'ES256', typ })
        .setIssuer(stack.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(key);
    // With the real key, but for another audience, or without the access-token type: refused.
    expect((await callTool(await craft({ aud: 'https://other.example.com/mcp' }))).status).toBe(401);
    expect((await callTool(await craft({ aud: stack.mcpUrl }, 'JWT'))).status).toBe(401);
    // Signed with another key: refused.
    const tampered = `${accessToken.slice(0, accessToken.lastIndexOf('.'))}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
    expect((await callTool(tampered)).status).toBe(401);
    // The identity provider's own tokens are not accepted: it is not one of authorizationServers.
    expect((await callTool(await craftToken(stack.idp, stack.mcpUrl))).status).toBe(401);
  });
});

describe('SSRF through client ID metadata documents', () => {
  it.each([
    ['loopback by IP', () => `https://127.0.0.1:${fixture.port}/client.json`],
    ['link-local cloud metadata', () => 'https://169.254.169.254/latest/meta-data/client.json'],
    ['a private address', () => 'https://10.0.0.1/client.json'],
    ['another private address', () => 'https://192.168.1.1/client.json'],
    ['IPv6 loopback', () => `https://[::1]:${fixture.port}/client.json`],
    ['a redirect', () => `${fixture.origin}/redirect.json`],
    ['an oversized document', () => `${fixture.origin}/large.json`],
    ['plain http', () => `http://localhost:${fixture.port}/client.json`],
  ])('refuses %s with an error page and no redirect', async (_name, url) => {
    fixture.route('/redirect.json', (_req, res) => res.writeHead(302, { location: `${fixture.origin}/client.json` }).end());
    fixture.route('/large.json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: `${fixture.origin}/large.json`, redirect_uris: [REDIRECT], pad: 'x'.repeat(6000) })));
    const before = fixture.requests.filter((path) => path === '/client.json').length;
    const response = await fetch(authorizeUrl({ client_id: url(), code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(fixture.requests.filter((path) => path === '/client.json').length).toBe(before);
  });

  it('the token endpoint never fetches a client id URL', async () => {
    fixture.json('/probe.json', { client_id: `${fixture.origin}/probe.json`, redirect_uris: [REDIRECT] });
    const response = await token({ grant_type: 'authorization_code', code: 'x'.repeat(43), code_verifier: pkce().verifier, client_id: `${fixture.origin}/probe.json` });
    expect(response.body.error).toBe('invalid_grant');
    expect(fixture.requests).not.toContain('/probe.json');
  });

  it('refuses a document that names another client id or a shared secret', async () => {
    fixture.json('/liar.json', { client_id: `${fixture.origin}/other.json`, redirect_uris: [REDIRECT] });
    fixture.json('/secret.json', { client_id: `${fixture.origin}/secret.json`, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    for (const path of ['/liar.json', '/secret.json']) {
      const response = await fetch(authorizeUrl({ client_id: `${fixture.origin}${path}`, code_challenge: pkce().challenge }), { redirect: 'manual' });
      expect(response.status).toBe(400);
    }
  });

  it('caches a valid document per its headers, never an error', async () => {
    const path = '/cached.json';
    let served = 0;
    fixture.route(path, (_req, res) => {
      served += 1;
      if (served === 1) return res.writeHead(500).end();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify({ client_id: `${fixture.origin}${path}`, redirect_uris: [REDIRECT] }));
    });
    const open = () => fetch(authorizeUrl({ client_id: `${fixture.origin}${path}`, code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect((await open()).status).toBe(400);
    expect((await open()).status).toBe(200);
    expect((await open()).status).toBe(200);
    expect(served).toBe(2);
  });
});
