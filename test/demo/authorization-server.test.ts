import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import {
  DemoOAuthError,
  startDemoAuthorizationServer,
  type DemoAuthorizationServer,
} from '../../src/demo/authorization-server.js';

const RESOURCE = 'http://127.0.0.1:9/mcp';
const UPSTREAM = 'http://127.0.0.1:9/upstream';
const SERVICE = { client_id: 'svc', client_secret: 'svc-secret-that-is-long-enough-000000' };
const GATEWAY = { client_id: 'gateway', client_secret: 'gateway-secret-that-is-long-enough-00' };
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

let as: DemoAuthorizationServer;

beforeAll(async () => {
  as = await startDemoAuthorizationServer({
    resources: [
      { resource: RESOURCE, scopes: ['mcp:read', 'mcp:write'] },
      { resource: 'http://127.0.0.1:9/other', scopes: ['other:read'] },
      { resource: UPSTREAM, scopes: ['mcp:read', 'up:admin'], accessTokenTtlSeconds: 30 },
    ],
    user: { sub: 'alice', claims: { groups: ['eng'], tenant: 't1' } },
    clients: [{
      ...SERVICE,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    }, {
      ...GATEWAY,
      grant_types: ['client_credentials', TOKEN_EXCHANGE],
      response_types: [],
      redirect_uris: [],
    }],
    tokenExchange: [{ clientId: GATEWAY.client_id, subjectAudiences: [RESOURCE] }],
  });
});

afterAll(async () => {
  await as.close();
});

async function verify(token: string) {
  return jwtVerify(token, createRemoteJWKSet(new URL(as.jwksUri)), {
    issuer: as.issuer,
    audience: RESOURCE,
    typ: 'at+jwt',
  });
}

async function postToken(form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${as.issuer}/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
}

describe('demo authorization server', () => {
  it('listens on 127.0.0.1 and serves both discovery documents', async () => {
    expect(as.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const response = await fetch(`${as.issuer}${path}`);
      expect(response.status, path).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: as.issuer,
        jwks_uri: as.jwksUri,
        registration_endpoint: `${as.issuer}/register`,
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
      });
      expect(metadata.grant_types_supported).toEqual(
        expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
      );
      expect(metadata.scopes_supported).not.toContain('offline_access');
    }
  });

  it('issues an RFC 9068 JWT for the resource through DCR + code + PKCE', async () => {
    const { accessToken, refreshToken } = await as.obtainUserToken({ resource: RESOURCE, scope: 'mcp:read' });
    const { payload, protectedHeader } = await verify(accessToken);
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: as.currentSigningKey().kid });
    expect(payload).toMatchObject({ aud: RESOURCE, scope: 'mcp:read', sub: 'alice', groups: ['eng'], tenant: 't1' });
    expect(payload.client_id).toEqual(expect.any(String));
    expect(refreshToken).toEqual(expect.any(String));

    const refreshed = await postToken({
      grant_type: 'refresh_token',
      refresh_token: refreshToken!,
      client_id: String(payload.client_id),
      resource: RESOURCE,
    });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { access_token: string };
    expect((await verify(body.access_token)).payload).toMatchObject({ aud: RESOURCE, scope: 'mcp:read' });
  });

  it('drops requested scopes the resource does not have', async () => {
    const { accessToken } = await as.obtainUserToken({ resource: RESOURCE, scope: 'mcp:read mcp:write other:read' });
    expect((await verify(accessToken)).payload.scope).toBe('mcp:read mcp:write');
  });

  it('refuses an unknown resource with invalid_target', async () => {
    const attempt = as.obtainUserToken({ resource: 'http://127.0.0.1:9/unknown', scope: 'mcp:read' });
    await expect(attempt).rejects.toBeInstanceOf(DemoOAuthError);
    await expect(attempt).rejects.toMatchObject({ code: 'invalid_target' });
  });

  it('signs with a new key after rotation, keeps grants and serves old and new keys', async () => {
    const earlier = await as.obtainUserToken({ resource: RESOURCE, scope: 'mcp:read' });
    const before = as.currentSigningKey().kid;
    const port = new URL(as.issuer).port;
    await as.rotateSigningKey();
    const after = as.currentSigningKey().kid;
    expect(after).not.toBe(before);
    expect(new URL(as.issuer).port).toBe(port);

    const { accessToken } = await as.obtainUserToken({ resource: RESOURCE, scope: 'mcp:write' });
    expect(decodeProtectedHeader(accessToken).kid).toBe(after);
    await verify(accessToken);
    await verify(earlier.accessToken);

    // The client and grant registered before the swap still work with the new Provider.
    const refreshed = await postToken({
      grant_type: 'refresh_token',
      refresh_token: earlier.refreshToken!,
      client_id: String((await verify(earlier.accessToken)).payload.client_id),
    });
    expect(refreshed.status).toBe(200);
    const { access_token: rotated } = (await refreshed.json()) as { access_token: string };
    expect(decodeProtectedHeader(rotated).kid).toBe(after);

    const jwks = (await (await fetch(as.jwksUri)).json()) as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([before, after]));
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
  });

  it('exposes the signing key so tests can craft tokens the JWKS verifies', async () => {
    const { key, kid, alg } = as.currentSigningKey();
    const expired = await new SignJWT({ scope: 'mcp:read', client_id: 'x' })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(as.issuer)
      .setAudience(RESOURCE)
      .setSubject('alice')
      .setIssuedAt(1_000)
      .setExpirationTime(2_000)
      .sign(key);
    // Signature and kid check out; only the claim check fails.
    await expect(verify(expired)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('issues client_credentials JWTs to a pre-registered confidential client', async () => {
    const basic = `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}`;
    const response = await postToken(
      { grant_type: 'client_credentials', resource: RESOURCE, scope: 'mcp:read' },
      { authorization: basic },
    );
    expect(response.status).toBe(200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    const { payload } = await verify(token);
    expect(payload).toMatchObject({ aud: RESOURCE, scope: 'mcp:read', client_id: 'svc', sub: 'svc' });
    expect(payload.groups).toBeUndefined();

    const unknown = await postToken(
      { grant_type: 'client_credentials', resource: 'http://127.0.0.1:9/unknown' },
      { authorization: basic },
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_target' });
  });

  it('exchanges a user token for a token for another resource (RFC 8693), for allowed clients only', async () => {
    const { accessToken } = await as.obtainUserToken({ resource: RESOURCE, scope: 'mcp:read mcp:write' });
    const agent = (await verify(accessToken)).payload.client_id;
    const basic = (client: { client_id: string; client_secret: string }) =>
      ({ authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` });
    const exchange = (form: Record<string, string>, client = GATEWAY) =>
      postToken({ grant_type: TOKEN_EXCHANGE, subject_token: accessToken, subject_token_type: ACCESS_TOKEN_TYPE, ...form }, basic(client));

    const response = await exchange({ resource: UPSTREAM });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; issued_token_type: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'mcp:read' });
    expect(body.expires_in).toBeLessThanOrEqual(30);
    const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(as.jwksUri)), { issuer: as.issuer, audience: UPSTREAM, typ: 'at+jwt' });
    // The user stays the subject; the gateway acts now, the agent the user authorized acted before.
    expect(payload).toMatchObject({ sub: 'alice', client_id: GATEWAY.client_id, scope: 'mcp:read', act: { sub: GATEWAY.client_id, act: { sub: agent } } });

    expect(await (await exchange({ audience: UPSTREAM, scope: 'up:admin' })).json()).toMatchObject({ error: 'invalid_scope' });
    expect(await (await exchange({ resource: 'http://127.0.0.1:9/unknown' })).json()).toMatchObject({ error: 'invalid_target' });
    expect(await (await exchange({ resource: UPSTREAM, subject_token: 'not-a-token' })).json()).toMatchObject({ error: 'invalid_grant' });
    // SERVICE may not use the grant at all; GATEWAY may not exchange tokens minted for another audience.
    expect((await exchange({ resource: UPSTREAM }, SERVICE)).status).toBe(400);
    const other = await as.obtainUserToken({ resource: 'http://127.0.0.1:9/other', scope: 'other:read' });
    const foreign = await exchange({ resource: UPSTREAM, subject_token: other.accessToken });
    expect(await foreign.json()).toMatchObject({ error: 'invalid_grant' });

    const grants = as.tokenRequests.filter((request) => request.grantType === TOKEN_EXCHANGE);
    expect(grants[0]).toEqual({ grantType: TOKEN_EXCHANGE, clientId: GATEWAY.client_id });
    expect(grants.slice(1).every((request) => request.error !== undefined)).toBe(true);
  });

  it('records every token request and can simulate an outage', async () => {
    const before = as.tokenRequests.length;
    const basic = `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}`;
    await (await postToken({ grant_type: 'client_credentials', resource: UPSTREAM }, { authorization: basic })).text();
    expect(as.tokenRequests.slice(before)).toEqual([{ grantType: 'client_credentials', clientId: 'svc' }]);

    await as.suspend();
    await expect(fetch(`${as.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
    await as.resume();
    expect((await fetch(`${as.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  });

  it('rejects invalid options at start-up', async () => {
    await expect(startDemoAuthorizationServer({ resources: [] })).rejects.toThrow(/"resources"/);
  });
});

describe('demo authorization server shaped like other identity providers', () => {
  const resource = 'https://mcp.example.com/mcp';
  const started: DemoAuthorizationServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.close()));
  });
  async function start(options: Partial<Parameters<typeof startDemoAuthorizationServer>[0]>) {
    const server = await startDemoAuthorizationServer({ resources: [{ resource, scopes: ['mcp:read'] }], ...options });
    started.push(server);
    return server;
  }
  const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

  it('mounts every endpoint under an issuer path, discoverable only path-appended (Keycloak, Okta, Entra)', async () => {
    const server = await start({ issuer: (origin) => `${origin}/realms/mcp` });
    expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/realms\/mcp$/);
    expect(server.baseUrl).toBe(server.issuer);
    expect(server.jwksUri).toBe(`${server.issuer}/jwks`);
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: server.issuer, jwks_uri: server.jwksUri, token_endpoint: `${server.issuer}/token` });
    expect((await fetch(`${new URL(server.issuer).origin}/.well-known/openid-configuration`)).status).toBe(404);
    const { accessToken } = await server.obtainUserToken({ resource, scope: 'mcp:read' });
    expect(decode(accessToken)).toMatchObject({ iss: server.issuer, aud: resource });
  });

  it('keeps a trailing slash in the issuer (Auth0)', async () => {
    const server = await start({ issuer: (origin) => `${origin}/` });
    expect(server.issuer.endsWith('/')).toBe(true);
    const { accessToken } = await server.obtainUserToken({ resource, scope: 'mcp:read' });
    expect(decode(accessToken).iss).toBe(server.issuer);
  });

  it('can name another host as issuer while serving on 127.0.0.1 under its path (Entra v1, Google)', async () => {
    const server = await start({ issuer: () => 'https://sts.windows.net/tenant-1/' });
    expect(server.issuer).toBe('https://sts.windows.net/tenant-1/');
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-1$/);
    const { accessToken } = await server.obtainUserToken({ resource, scope: 'mcp:read' });
    expect(decode(accessToken).iss).toBe('https://sts.windows.net/tenant-1/');
    await verifyWith(server, accessToken);
  });

  it('puts a fixed audience in aud and reshapes header and claims', async () => {
    const server = await start({
      resources: [{ resource, scopes: ['mcp:read', 'mcp:write'], audience: 'api://default' }],
      shapeAccessToken: ({ header, payload }) => {
        header.typ = undefined;
        payload.scp = String(payload.scope).split(' ');
        payload.cid = payload.client_id;
        delete payload.scope;
        delete payload.client_id;
      },
    });
    const { accessToken } = await server.obtainUserToken({ resource, scope: 'mcp:read mcp:write' });
    const header = JSON.parse(Buffer.from(accessToken.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(header).not.toHaveProperty('typ');
    expect(decode(accessToken)).toMatchObject({ aud: 'api://default', scp: ['mcp:read', 'mcp:write'], cid: expect.any(String) });
    expect(decode(accessToken)).not.toHaveProperty('scope');
    await verifyWith(server, accessToken);
  });

  it('takes Auth0 `audience` in place of `resource`, and issues an opaque token with neither', async () => {
    const server = await start({ audienceParameter: true, resources: [{ resource, scopes: ['mcp:read'] }, { resource: 'https://other.example.com', scopes: ['x'] }] });
    const { accessToken } = await server.obtainUserToken({ scope: 'openid mcp:read', params: { audience: resource } });
    expect(decode(accessToken)).toMatchObject({ aud: resource, scope: 'mcp:read' });
    const opaque = await server.obtainUserToken({ scope: 'openid mcp:read' });
    expect(opaque.accessToken.split('.')).toHaveLength(1);
  });

  it('rejects malformed shaping options at start-up', async () => {
    await expect(start({ resources: [{ resource, scopes: ['mcp:read'], audience: '' }] })).rejects.toThrow(/"resources\[0\]\.audience"/);
    await expect(start({ issuer: (() => 'not a url') as (origin: string) => string })).rejects.toThrow(/"issuer"/);
  });
});

async function verifyWith(server: DemoAuthorizationServer, token: string) {
  return jwtVerify(token, createRemoteJWKSet(new URL(server.jwksUri)), { issuer: server.issuer });
}
