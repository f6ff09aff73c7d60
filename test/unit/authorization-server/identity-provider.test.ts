/**
 * The gateway as a relying party of the identity provider, against a scripted provider (injected
 * fetch): what it sends, and every check on what comes back (RFC 9207 iss, ID token signature,
 * iss, aud, azp, nonce, expiry, subject claim), with transient and definitive failures told apart.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIdentityProviderClient, IdentityProviderError } from '../../../src/authorization-server/identity-provider.js';
import { silentLogger } from '../../../src/log/index.js';

const ISSUER = 'https://idp.example.com';
const REDIRECT = 'https://mcp.example.com/oauth/callback';
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let foreignKeys: Awaited<ReturnType<typeof generateKeyPair>>;
beforeAll(async () => {
  keys = await generateKeyPair('ES256');
  foreignKeys = await generateKeyPair('ES256');
});

interface Script {
  metadata?: Record<string, unknown>;
  idToken?: (claims: JWTPayload) => Promise<string>;
  claims?: JWTPayload;
  tokenStatus?: number;
  userinfo?: Record<string, unknown>;
}

function fakeIdp(script: Script = {}) {
  const requests: Array<{ url: string; body?: string; authorization?: string }> = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    requests.push({ url, body: init?.body ? String(init.body) : undefined, authorization: headers.get('authorization') ?? undefined });
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/.well-known/oauth-authorization-server')) return json({}, 404);
    if (url.endsWith('/.well-known/openid-configuration')) {
      return json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
        userinfo_endpoint: `${ISSUER}/userinfo`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        ...script.metadata,
      });
    }
    if (url === `${ISSUER}/jwks`) return json({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' }] });
    if (url === `${ISSUER}/token`) {
      if (script.tokenStatus) return json({ error: 'server_error' }, script.tokenStatus);
      const nonce = new URLSearchParams(String(init?.body)).get('code') === 'code-1' ? 'nonce-1' : 'other';
      const claims = { sub: 'user-1', nonce, groups: ['staff'], ...script.claims };
      const idToken = script.idToken
        ? await script.idToken(claims)
        : await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience('gateway').setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);
      return json({ access_token: 'idp-access-token', token_type: 'Bearer', id_token: idToken });
    }
    if (url === `${ISSUER}/userinfo`) return json(script.userinfo ?? { sub: 'user-1', email: 'user@example.com' });
    return json({}, 404);
  };
  const client = createIdentityProviderClient({
    config: {
      issuer: ISSUER,
      clientId: 'gateway',
      clientAuthentication: 'client_secret_basic',
      clientSecret: 's3cret',
      scopes: ['openid', 'email'],
      subjectClaim: 'sub',
      claims: ['groups', 'email'],
      userinfo: true,
      timeoutMs: 1000,
    },
    redirectUri: REDIRECT,
    logger: silentLogger,
    fetch: fetchImpl as typeof fetch,
  });
  return { client, requests };
}

async function failure(promise: Promise<unknown>): Promise<IdentityProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityProviderError);
    return error as IdentityProviderError;
  }
  throw new Error('expected a failure');
}

const expected = { nonce: 'nonce-1', codeVerifier: 'v'.repeat(43) };

describe('identity provider client', () => {
  it('sends the user with PKCE S256, nonce and state; redeems the code with client authentication; reads the claims', async () => {
    const { client, requests } = fakeIdp();
    await client.keys.refresh();
    const url = new URL(await client.authorizationUrl({ state: 's1', nonce: 'nonce-1', codeChallenge: 'c'.repeat(43) }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code', client_id: 'gateway', redirect_uri: REDIRECT, scope: 'openid email', state: 's1', nonce: 'nonce-1', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256',
    });
    const login = await client.completeLogin({ code: 'code-1', iss: ISSUER }, expected);
    expect(login).toMatchObject({ subject: 'user-1', claims: { groups: ['staff'], email: 'user@example.com' } });
    const tokenRequest = requests.find((request) => request.url === `${ISSUER}/token`)!;
    expect(tokenRequest.authorization).toBe(`Basic ${Buffer.from('gateway:s3cret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(tokenRequest.body))).toMatchObject({ grant_type: 'authorization_code', code: 'code-1', redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) });
  });

  it.each([
    ['another iss in the authorization response (mix-up, RFC 9207)', { code: 'code-1', iss: 'https://evil.example.com' }, {}],
    ['no iss although the provider advertises it', { code: 'code-1', iss: undefined }, {}],
    ['a nonce that is not this login\'s', { code: 'code-2', iss: ISSUER }, {}],
    ['an ID token signed by another key', { code: 'code-1', iss: ISSUER }, { idToken: (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience('gateway').setIssuedAt().setExpirationTime('5m').sign(foreignKeys.privateKey) }],
    ['an ID token for another client', { code: 'code-1', iss: ISSUER }, { idToken: (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience('someone-else').setIssuedAt().setExpirationTime('5m').sign(keys.privateKey) }],
    ['an ID token from another issuer', { code: 'code-1', iss: ISSUER }, { idToken: (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://other.example.com').setAudience('gateway').setIssuedAt().setExpirationTime('5m').sign(keys.privateKey) }],
    ['an expired ID token', { code: 'code-1', iss: ISSUER }, { idToken: (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience('gateway').setIssuedAt(1_000_000).setExpirationTime(1_000_060).sign(keys.privateKey) }],
    ['several audiences without azp', { code: 'code-1', iss: ISSUER }, { idToken: (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience(['gateway', 'other']).setIssuedAt().setExpirationTime('5m').sign(keys.privateKey) }],
    ['a userinfo answer for another user', { code: 'code-1', iss: ISSUER }, { userinfo: { sub: 'user-2', email: 'x@example.com' } }],
    ['a token endpoint refusal', { code: 'code-1', iss: ISSUER }, { tokenStatus: 400 }],
  ])('refuses %s, definitively', async (_name, response, script) => {
    const { client } = fakeIdp(script as Script);
    await client.keys.refresh();
    expect((await failure(client.completeLogin(response, expected))).transient).toBe(false);
  });

  it('reports a provider answering 5xx as transient', async () => {
    const { client } = fakeIdp({ tokenStatus: 503 });
    await client.keys.refresh();
    expect((await failure(client.completeLogin({ code: 'code-1', iss: ISSUER }, expected))).transient).toBe(true);
  });

  it('refuses a provider without PKCE S256 at discovery', async () => {
    const { client } = fakeIdp({ metadata: { code_challenge_methods_supported: ['plain'] } });
    expect((await failure(client.authorizationUrl({ state: 's', nonce: 'n', codeChallenge: 'c'.repeat(43) }))).message).toMatch(/PKCE S256/);
  });
});
