/**
 * The token verifier's introspection path against a real HTTP server on 127.0.0.1 that answers
 * what each test scripts, with an injected clock: cache bounds (exp, cacheMaxSeconds, refusals),
 * the checks on an active answer, failure classification, single flight, issuer order.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenVerifier, type TokenVerifier } from '../../../src/auth/index.js';
import { validateConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/log/index.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const OPAQUE = 'opaque-token-0123456789abcdefghijklmnop';

type Answer = { status: number; body: unknown; delayMs?: number };
let server: Server;
let origin: string;
/** Answers by issuer path (/a, /b); the default is active for RESOURCE. */
const answers = new Map<string, (form: URLSearchParams) => Answer>();
const received: Array<{ path: string; form: URLSearchParams; authorization: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(text);
      const path = req.url ?? '/';
      received.push({ path, form, authorization: req.headers.authorization });
      const answer = answers.get(path)?.(form) ?? { status: 404, body: {} };
      setTimeout(() => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body)), answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let nowMs: number;
beforeEach(() => {
  answers.clear();
  received.length = 0;
  nowMs = Date.UTC(2030, 0, 1);
});
const nowSeconds = () => Math.floor(nowMs / 1000);
const active = (claims: Record<string, unknown> = {}) => () => ({
  status: 200,
  body: { active: true, iss: `${origin}/a`, aud: RESOURCE, sub: 'alice', client_id: 'agent', scope: 'tickets:read', exp: nowSeconds() + 600, ...claims },
});
const introspectionsAt = (path: string) => received.filter((entry) => entry.path === path).length;

function verifierFor(servers: Array<{ path: string; introspection?: Record<string, unknown>; extra?: Record<string, unknown> }>, tokenCache = {}): TokenVerifier {
  const config = validateConfig({
    resource: { url: RESOURCE },
    authorizationServers: servers.map(({ path, introspection, extra }) => ({
      issuer: `${origin}${path}`,
      introspection: { endpoint: `${origin}${path}`, clientId: 'gw', clientSecret: 's3cret', introspectJwts: true, ...introspection },
      ...extra,
    })),
    upstream: { url: 'http://127.0.0.1:9/mcp' },
    tokenCache,
  });
  return createTokenVerifier({
    authorizationServers: config.authorizationServers,
    defaultAudiences: [RESOURCE],
    cache: config.tokenCache,
    logger: createLogger('silent'),
    now: () => nowMs,
  });
}

describe('introspection request', () => {
  it('posts the token with the access_token hint and Basic client authentication', async () => {
    answers.set('/a', active());
    await verifierFor([{ path: '/a' }]).verify(OPAQUE);
    expect(received[0]!.form.get('token')).toBe(OPAQUE);
    expect(received[0]!.form.get('token_type_hint')).toBe('access_token');
    expect(received[0]!.authorization).toBe(`Basic ${Buffer.from('gw:s3cret').toString('base64')}`);
  });
});

describe('cache bounds', () => {
  it('reuses an active answer for at most cacheMaxSeconds (a revoked token is accepted no longer than that)', async () => {
    answers.set('/a', active());
    const verifier = verifierFor([{ path: '/a', introspection: { cacheMaxSeconds: 30 } }]);
    await verifier.verify(OPAQUE);
    nowMs += 29_000;
    await verifier.verify(OPAQUE);
    expect(introspectionsAt('/a')).toBe(1);
    answers.set('/a', () => ({ status: 200, body: { active: false } }));
    nowMs += 1_001;
    await expect(verifier.verify(OPAQUE)).rejects.toMatchObject({ code: 'token_invalid', tokenRejection: 'inactive' });
    expect(introspectionsAt('/a')).toBe(2);
  });

  it('never beyond exp, even when cacheMaxSeconds is longer', async () => {
    answers.set('/a', active({ exp: nowSeconds() + 5 }));
    const verifier = verifierFor([{ path: '/a', introspection: { cacheMaxSeconds: 300 } }]);
    await verifier.verify(OPAQUE);
    nowMs += 4_000;
    await verifier.verify(OPAQUE);
    expect(introspectionsAt('/a')).toBe(1);
    nowMs += 1_500;
    answers.set('/a', () => ({ status: 200, body: { active: false } }));
    await expect(verifier.verify(OPAQUE)).rejects.toMatchObject({ tokenRejection: 'inactive' });
    expect(introspectionsAt('/a')).toBe(2);
  });

  it('never beyond tokenCache.maxTtlSeconds; cacheMaxSeconds 0 asks every time', async () => {
    answers.set('/a', active());
    const bounded = verifierFor([{ path: '/a', introspection: { cacheMaxSeconds: 300 } }], { maxTtlSeconds: 10 });
    await bounded.verify(OPAQUE);
    nowMs += 10_001;
    await bounded.verify(OPAQUE);
    expect(introspectionsAt('/a')).toBe(2);
    const uncached = verifierFor([{ path: '/a', introspection: { cacheMaxSeconds: 0 } }]);
    await uncached.verify(OPAQUE);
    await uncached.verify(OPAQUE);
    expect(introspectionsAt('/a')).toBe(4);
  });

  it('remembers a refusal for inactiveCacheSeconds only', async () => {
    answers.set('/a', () => ({ status: 200, body: { active: false } }));
    const verifier = verifierFor([{ path: '/a', introspection: { inactiveCacheSeconds: 5 } }]);
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(OPAQUE)).rejects.toMatchObject({ tokenRejection: 'inactive' });
    expect(introspectionsAt('/a')).toBe(1);
    nowMs += 5_001;
    await expect(verifier.verify(OPAQUE)).rejects.toMatchObject({ tokenRejection: 'inactive' });
    expect(introspectionsAt('/a')).toBe(2);
  });

  it('concurrent requests with one token share one introspection', async () => {
    answers.set('/a', () => ({ ...active()(), delayMs: 50 }));
    const verifier = verifierFor([{ path: '/a' }]);
    const principals = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(OPAQUE)));
    expect(new Set(principals.map((principal) => principal.subject))).toEqual(new Set(['alice']));
    expect(introspectionsAt('/a')).toBe(1);
  });
});

describe('checks on an active answer', () => {
  it.each([
    ['another issuer in iss', { iss: 'https://elsewhere.example.com' }, 'wrong_issuer'],
    ['an audience for another resource', { aud: 'https://other.example.com' }, 'wrong_audience'],
    ['no aud (allowMissingAudience off by default)', { aud: undefined }, 'wrong_audience'],
    ['a refresh token (token_type)', { token_type: 'refresh_token' }, 'wrong_type'],
    ['exp in the past (beyond the clock tolerance)', { exp: Math.floor(Date.UTC(2030, 0, 1) / 1000) - 31 }, 'expired'],
    ['nbf in the future', { nbf: Math.floor(Date.UTC(2030, 0, 1) / 1000) + 600 }, 'not_yet_valid'],
  ])('refuses %s', async (_name, claims, reason) => {
    answers.set('/a', active(claims));
    await expect(verifierFor([{ path: '/a' }]).verify(OPAQUE)).rejects.toMatchObject({ code: 'token_invalid', tokenRejection: reason });
  });

  it('accepts a response without aud when allowMissingAudience is on, and one without iss', async () => {
    answers.set('/a', active({ aud: undefined, iss: undefined }));
    const principal = await verifierFor([{ path: '/a', introspection: { allowMissingAudience: true } }]).verify(OPAQUE);
    expect(principal).toMatchObject({ subject: 'alice', clientId: 'agent', authenticationMethod: 'introspection' });
  });

  it('uses the issuer\'s audiences and claim mapping (an Auth0 API identifier, permissions as scopes)', async () => {
    answers.set('/a', active({ aud: ['urn:tickets', 'https://tenant/userinfo'], scope: 'openid', permissions: ['tickets:write'], azp: 'agent-2', client_id: undefined }));
    const principal = await verifierFor([{ path: '/a', extra: { audiences: ['urn:tickets'], claimMapping: { additionalScopes: ['permissions'] } } }]).verify(OPAQUE);
    expect([...principal.scopes].sort()).toEqual(['openid', 'tickets:write']);
    expect(principal.clientId).toBe('agent-2');
    expect(principal.claims).not.toHaveProperty('active');
  });

  it('an answer without exp is cached for cacheMaxSeconds and expires then', async () => {
    answers.set('/a', active({ exp: undefined }));
    const principal = await verifierFor([{ path: '/a', introspection: { cacheMaxSeconds: 20 } }]).verify(OPAQUE);
    expect(principal.expiresAt).toBe(nowSeconds() + 20);
  });
});

describe('failures fail closed (503, never acceptance)', () => {
  it.each([
    ['HTTP 500', { status: 500, body: {} }],
    ['a body without a boolean active', { status: 200, body: { active: 'true' } }],
    ['HTTP 400 invalid_request', { status: 400, body: { error: 'invalid_request' } }],
  ])('%s → introspection_unavailable with Retry-After', async (_name, answer) => {
    answers.set('/a', () => answer);
    const error = await verifierFor([{ path: '/a' }]).verify(OPAQUE).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'introspection_unavailable', headers: { 'retry-after': '1' } });
    expect(String((error as Error).message)).not.toContain(OPAQUE);
  });

  it('a timeout → 503; during the cooldown the endpoint is not asked', async () => {
    answers.set('/a', () => ({ ...active()(), delayMs: 400 }));
    const verifier = verifierFor([{ path: '/a', introspection: { timeoutMs: 100, failureCooldownMs: 5000 } }]);
    await expect(verifier.verify(OPAQUE)).rejects.toMatchObject({ code: 'introspection_unavailable', detail: expect.stringContaining('timeout') });
    await expect(verifier.verify(`${OPAQUE}-2`)).rejects.toMatchObject({ code: 'introspection_unavailable', headers: { 'retry-after': '5' } });
    expect(introspectionsAt('/a')).toBe(1);
    nowMs += 5_000;
    answers.set('/a', active());
    await expect(verifier.verify(OPAQUE)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('at most maxConcurrentRequests in flight: the excess gets 503 at once, without a cooldown for the others', async () => {
    answers.set('/a', () => ({ ...active()(), delayMs: 100 }));
    const verifier = verifierFor([{ path: '/a', introspection: { maxConcurrentRequests: 2, failureCooldownMs: 60_000 } }]);
    const results = await Promise.allSettled(['t1', 't2', 't3'].map((token) => verifier.verify(`${OPAQUE}-${token}`)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'introspection_unavailable', detail: expect.stringContaining('maxConcurrentRequests') });
    expect(introspectionsAt('/a')).toBe(2);
    await expect(verifier.verify(`${OPAQUE}-t3`)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('refused client credentials → 503 naming the config keys to check', async () => {
    answers.set('/a', () => ({ status: 401, body: { error: 'invalid_client' } }));
    await expect(verifierFor([{ path: '/a' }]).verify(OPAQUE)).rejects.toMatchObject({
      code: 'introspection_unavailable',
      detail: expect.stringMatching(/refused the gateway's client credentials \(HTTP 401 invalid_client\): check introspection\.clientId/),
    });
  });
});

describe('several introspecting issuers', () => {
  it('asks them in config order until one knows the token', async () => {
    answers.set('/a', () => ({ status: 200, body: { active: false } }));
    answers.set('/b', active({ iss: `${origin}/b`, sub: 'bob' }));
    const verifier = verifierFor([{ path: '/a' }, { path: '/b' }]);
    expect(await verifier.verify(OPAQUE)).toMatchObject({ issuer: `${origin}/b`, subject: 'bob' });
    expect(received.map((entry) => entry.path)).toEqual(['/a', '/b']);
  });

  it('one down and none other knowing the token → 503, not 401', async () => {
    answers.set('/a', () => ({ status: 503, body: {} }));
    answers.set('/b', () => ({ status: 200, body: { active: false } }));
    await expect(verifierFor([{ path: '/a' }, { path: '/b' }]).verify(OPAQUE)).rejects.toMatchObject({ code: 'introspection_unavailable' });
  });

  it('one down but another knows the token → accepted', async () => {
    answers.set('/a', () => ({ status: 503, body: {} }));
    answers.set('/b', active({ iss: `${origin}/b` }));
    await expect(verifierFor([{ path: '/a' }, { path: '/b' }]).verify(OPAQUE)).resolves.toMatchObject({ issuer: `${origin}/b` });
  });

  it('a refusal other than inactive ends the search (the issuer recognised its token)', async () => {
    answers.set('/a', active({ aud: 'https://other.example.com' }));
    answers.set('/b', active({ iss: `${origin}/b` }));
    await expect(verifierFor([{ path: '/a' }, { path: '/b' }]).verify(OPAQUE)).rejects.toMatchObject({ tokenRejection: 'wrong_audience' });
    expect(introspectionsAt('/b')).toBe(0);
  });

  it('a JWT goes only to the issuer its iss names (introspection-only issuer)', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ iss: `${origin}/b`, sub: 'bob' })}.c2lnbmF0dXJl`;
    answers.set('/b', active({ iss: `${origin}/b`, sub: 'bob' }));
    expect(await verifierFor([{ path: '/a' }, { path: '/b' }]).verify(jwt)).toMatchObject({ subject: 'bob', authenticationMethod: 'introspection' });
    expect(received.map((entry) => entry.path)).toEqual(['/b']);
  });
});
