/**
 * The token endpoint client against a real HTTP server on 127.0.0.1 that answers what each test
 * sets: how responses are classified (token, refused, unavailable) and what is sent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenEndpoint } from '../../../src/upstream-auth/token-endpoint.js';
import { TokenEndpointError } from '../../../src/upstream-auth/index.js';

let server: Server;
let origin: string;
let answer: { status: number; body: unknown };
let metadata: Record<string, unknown> | undefined;
const received: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/.well-known/')) {
        res.writeHead(metadata ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(metadata ?? {}));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  metadata = undefined;
  answer = { status: 200, body: { access_token: 'at-1', token_type: 'Bearer', expires_in: 120 } };
});

function endpoint(overrides: Partial<Parameters<typeof createTokenEndpoint>[0]> = {}) {
  return createTokenEndpoint({
    tokenEndpoint: `${origin}/token`,
    grantType: 'client_credentials',
    client: { clientId: 'gate way', method: 'client_secret_basic', clientSecret: 'p@ss:wörd' },
    timeoutMs: 1000,
    failureCooldownMs: 60_000,
    ...overrides,
  });
}

describe('token endpoint client', () => {
  it('form-encodes id and secret before Basic (RFC 6749 §2.3.1) and reads expires_in', async () => {
    const token = await endpoint({ now: () => 1_000_000 }).request({ grant_type: 'client_credentials', scope: 'a b' });
    expect(token).toEqual({ value: 'at-1', obtainedAtMs: 1_000_000, expiresAtMs: 1_120_000 });
    const [request] = received;
    expect(Buffer.from(request!.headers.authorization!.slice(6), 'base64').toString()).toBe('gate+way:p%40ss%3Aw%C3%B6rd');
    expect(new URLSearchParams(request!.body).get('scope')).toBe('a b');
  });

  it('without expires_in, takes exp from a JWT access token', async () => {
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(2_000_000).sign(new Uint8Array(32));
    answer = { status: 200, body: { access_token: jwt, token_type: 'bearer' } };
    expect((await endpoint().request({ grant_type: 'client_credentials' })).expiresAtMs).toBe(2_000_000_000);
  });

  it.each([
    ['an OAuth error', 401, { error: 'invalid_client', error_description: 'bad eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig' }, { transient: false, oauthError: 'invalid_client', configKey: 'clientId' }],
    ['a DPoP-bound token', 200, { access_token: 'x', token_type: 'DPoP' }, { transient: false }],
    ['no access_token', 200, { token_type: 'Bearer' }, { transient: false }],
    ['a 503', 503, { error: 'temporarily_unavailable' }, { transient: true }],
  ])('classifies %s', async (_name, status, body, expected) => {
    answer = { status, body };
    const error = await endpoint().request({ grant_type: 'client_credentials' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject(expected);
    // An AS-written description is logged without anything token-shaped.
    expect((error as Error).message).not.toContain('eyJ');
  });

  it('after a transient failure, fails fast for the cooldown without asking again', async () => {
    answer = { status: 502, body: {} };
    const client = endpoint();
    await expect(client.request({ grant_type: 'client_credentials' })).rejects.toMatchObject({ transient: true });
    answer = { status: 200, body: { access_token: 'at-2', token_type: 'Bearer', expires_in: 60 } };
    await expect(client.request({ grant_type: 'client_credentials' })).rejects.toMatchObject({ transient: true });
    expect(received).toHaveLength(1);
  });

  it('an unreachable endpoint is transient', async () => {
    await expect(endpoint({ tokenEndpoint: 'http://127.0.0.1:1/token' }).request({})).rejects.toMatchObject({ transient: true });
  });

  it('discovers the endpoint from the issuer and refuses a grant the metadata does not list', async () => {
    metadata = { issuer: origin, token_endpoint: `${origin}/token`, grant_types_supported: ['authorization_code'] };
    await expect(endpoint({ tokenEndpoint: undefined, issuer: origin }).resolve()).rejects.toMatchObject({ transient: false, configKey: 'type' });
    metadata = { issuer: origin, token_endpoint: `${origin}/token`, token_endpoint_auth_methods_supported: ['private_key_jwt'] };
    await expect(endpoint({ tokenEndpoint: undefined, issuer: origin }).resolve()).rejects.toMatchObject({ configKey: 'clientAuthentication' });
    metadata = { issuer: origin, token_endpoint: `${origin}/token` };
    await expect(endpoint({ tokenEndpoint: undefined, issuer: origin }).resolve()).resolves.toBe(`${origin}/token`);
  });

  it('an issuer with no metadata document is misconfiguration, not an outage', async () => {
    await expect(endpoint({ tokenEndpoint: undefined, issuer: origin }).resolve()).rejects.toMatchObject({ transient: false, configKey: 'issuer' });
  });
});
