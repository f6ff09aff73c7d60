/**
 * The gateway's own credential from the OAuth 2.0 client credentials grant, with real parts:
 * oidc-provider issues the tokens, the SDK upstream accepts only JWTs the AS minted for it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/index.js';
import { startDemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack, type StackOptions } from '../helpers/stack.js';
import { confidentialClient, GATEWAY_CLIENT, upstreamAuthStack } from '../helpers/upstream-auth.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function stackFor(options: StackOptions): Promise<Stack> {
  const stack = await startStack(options);
  cleanups.push(() => stack.close());
  return stack;
}

const stateless = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
const echo = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `call ${id}` } } });

function clientCredentials(extra: Record<string, unknown> = {}) {
  return ({ issuer, upstreamUrl }: { issuer: string; upstreamUrl: string }) => ({
    type: 'client_credentials' as const,
    issuer,
    clientId: GATEWAY_CLIENT.client_id,
    clientSecret: GATEWAY_CLIENT.client_secret,
    scope: ['tickets:read'],
    resource: upstreamUrl,
    ...extra,
  });
}

function tokenRequests(stack: Stack, clientId = GATEWAY_CLIENT.client_id) {
  return stack.as.tokenRequests.filter((request) => request.grantType === 'client_credentials' && request.clientId === clientId);
}

async function call(stack: Stack, token: string, id: number): Promise<Response> {
  return mcpPost(stack.mcpUrl, echo(id), { ...bearer(token), ...stateless });
}

const privateKeyJwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe.each([
  ['client_secret_basic', GATEWAY_CLIENT, {}],
  ['client_secret_post', { ...GATEWAY_CLIENT, token_endpoint_auth_method: 'client_secret_post' }, { clientAuthentication: 'client_secret_post' }],
  [
    'private_key_jwt',
    {
      client_id: GATEWAY_CLIENT.client_id,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...privateKeyJwtKey.publicKey.export({ format: 'jwk' }), kid: 'gateway-key-1', alg: 'ES256', use: 'sig' }] },
    },
    {
      clientAuthentication: 'private_key_jwt',
      clientSecret: undefined,
      privateKey: privateKeyJwtKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      privateKeyId: 'gateway-key-1',
    },
  ],
] as const)('client credentials with %s', (_method, client, credential) => {
  it('gets a token from oidc-provider at start-up; the upstream accepts it; it is reused, never the user token', async () => {
    const stack = await stackFor(
      upstreamAuthStack({ clients: [confidentialClient(client)], credential: clientCredentials(credential) }),
    );
    // Fetched at start-up, before any request.
    expect(tokenRequests(stack)).toEqual([{ grantType: 'client_credentials', clientId: GATEWAY_CLIENT.client_id }]);

    const userToken = await stack.obtainToken();
    for (let id = 1; id <= 3; id += 1) {
      const response = await call(stack, userToken, id);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(`call ${id}`);
    }
    const seen = stack.upstream.seen.at(-1)!;
    expect(seen.verified.bearer).toMatchObject({ sub: GATEWAY_CLIENT.client_id, client_id: GATEWAY_CLIENT.client_id, aud: stack.upstream.url, scope: 'tickets:read' });
    expect(JSON.stringify(stack.upstream.seen)).not.toContain(userToken);
    expect(tokenRequests(stack)).toHaveLength(1);
    expect(stack.logOutput()).not.toContain(seen.headers.authorization!.slice(7));
  });
});

describe('client credentials: renewal', () => {
  it('50 concurrent requests after the token expired cause exactly one token request', async () => {
    const stack = await stackFor(
      upstreamAuthStack({ upstreamTokenTtlSeconds: 3, credential: clientCredentials({ refreshBeforeExpirySeconds: 0 }) }),
    );
    const userToken = await stack.obtainToken();
    expect(tokenRequests(stack)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 3100));

    const responses = await Promise.all(Array.from({ length: 50 }, (_, index) => call(stack, userToken, index)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    await Promise.all(responses.map((response) => response.text()));
    expect(tokenRequests(stack)).toHaveLength(2);
  });

  it('on an upstream 401 renews the token once and retries: 50 concurrent requests, one token request, all 200', async () => {
    const stack = await stackFor(upstreamAuthStack({ credential: clientCredentials() }));
    const userToken = await stack.obtainToken();
    const first = await call(stack, userToken, 1);
    expect(first.status).toBe(200);
    await first.text();
    // The upstream stops accepting the gateway's current token (as after a revocation there).
    stack.upstream.revokeToken(String(stack.upstream.seen.at(-1)!.verified.bearer!.jti));
    const seenBefore = stack.upstream.seen.length;

    const responses = await Promise.all(Array.from({ length: 50 }, (_, index) => call(stack, userToken, 100 + index)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    await Promise.all(responses.map((response) => response.text()));
    expect(tokenRequests(stack)).toHaveLength(2);
    // Requests that were sent with the old token were refused and sent again with the new one.
    const attempts = stack.upstream.seen.slice(seenBefore);
    expect(attempts.filter((request) => request.verified.bearer === undefined).length).toBeGreaterThanOrEqual(1);
    expect(attempts.filter((request) => request.verified.bearer !== undefined)).toHaveLength(50);
  });

  it('an upstream that refuses the renewed token too → 502, without its challenge; no renewal storm', async () => {
    const stack = await stackFor(
      upstreamAuthStack({
        // The upstream expects another audience: every token the gateway gets is refused.
        upstreamAudience: () => 'http://127.0.0.1:1/other-service',
        credential: clientCredentials({ failureCooldownMs: 60_000 }),
      }),
    );
    const userToken = await stack.obtainToken();
    for (const id of [1, 2, 3]) {
      const response = await call(stack, userToken, id);
      expect(response.status).toBe(502);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32603 } });
    }
    // One at start-up, one renewal after the first refusal; the renewed token's refusal is final.
    expect(tokenRequests(stack)).toHaveLength(2);
  });
});

describe('client credentials: the authorization server down and back', () => {
  it('a needed token while the AS is down → 503 JSON-RPC error with Retry-After; recovers by itself', async () => {
    const stack = await stackFor(upstreamAuthStack({ credential: clientCredentials({ failureCooldownMs: 200 }) }));
    const userToken = await stack.obtainToken();
    const first = await call(stack, userToken, 6);
    await first.text();
    // The upstream refuses the cached token, so a new one is needed while the AS is down.
    stack.upstream.revokeToken(String(stack.upstream.seen.at(-1)!.verified.bearer!.jti));
    await stack.as.suspend();

    for (const id of [7, 8]) {
      const down = await call(stack, userToken, id);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('1');
      expect(await down.json()).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32603 } });
    }
    expect(stack.logOutput()).toContain('upstream_credential_unavailable');
    expect(stack.logOutput()).not.toContain(userToken);

    await stack.as.resume();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const back = await call(stack, userToken, 9);
    expect(back.status).toBe(200);
    await back.text();
  });

  it('AS unreachable at start: starts not ready, answers 503, becomes ready when the AS appears', async () => {
    const credentialAs = await startDemoAuthorizationServer({
      resources: [{ resource: 'http://127.0.0.1:1/placeholder', scopes: ['tickets:read'] }],
      clients: [confidentialClient(GATEWAY_CLIENT)],
    });
    cleanups.push(() => credentialAs.close());
    await credentialAs.suspend();
    const stack = await stackFor({
      as: (urls) => ({ resources: [{ resource: urls.mcpUrl, scopes: ['tickets:read'] }] }),
      upstream: { requiredCredential: undefined },
      config: (config) => ({
        ...config,
        upstream: {
          ...config.upstream,
          credential: {
            type: 'client_credentials',
            issuer: credentialAs.issuer,
            clientId: GATEWAY_CLIENT.client_id,
            clientSecret: GATEWAY_CLIENT.client_secret,
            failureCooldownMs: 100,
            timeoutMs: 500,
          },
        },
      }),
    });
    const notReady = await fetch(new URL('/readyz', stack.mcpUrl));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, upstreamCredential: { kind: 'client_credentials', status: 'pending' } });
    const userToken = await stack.obtainToken();
    const down = await call(stack, userToken, 1);
    expect(down.status).toBe(503);
    await down.text();

    await credentialAs.resume();
    await expect.poll(async () => (await fetch(new URL('/readyz', stack.mcpUrl))).status, { timeout: 5000, interval: 100 }).toBe(200);
    const up = await call(stack, userToken, 2);
    expect(up.status).toBe(200);
    await up.text();
  });
});

describe('client credentials: misconfiguration is reported at start-up', () => {
  it.each([
    ['a wrong client secret', () => ({ clientSecret: 'wrong-secret-0123456789' }), /upstream\.credential\.clientId: .*invalid_client/],
    ['an unknown resource', () => ({ resource: 'http://127.0.0.1:1/unknown' }), /upstream\.credential\.resource: .*invalid_target/],
    ['an issuer that has no metadata', (issuer: string) => ({ issuer: `${issuer}/wrong` }), /upstream\.credential\.issuer: cannot discover token_endpoint/],
    ['an unreachable issuer (not misconfiguration)', () => ({ issuer: 'http://127.0.0.1:1/nowhere', timeoutMs: 500 }), null],
  ])('%s', async (_name, change, expected) => {
    const as = await startDemoAuthorizationServer({
      resources: [{ resource: 'http://127.0.0.1:1/upstream', scopes: ['tickets:read'] }],
      clients: [confidentialClient(GATEWAY_CLIENT)],
    });
    cleanups.push(() => as.close());
    const config = validateConfig({
      listen: { port: 0 },
      resource: { url: 'http://127.0.0.1:1/mcp' },
      authorizationServers: [{ issuer: as.issuer }],
      upstream: {
        url: 'http://127.0.0.1:1/upstream',
        credential: {
          type: 'client_credentials',
          issuer: as.issuer,
          clientId: GATEWAY_CLIENT.client_id,
          clientSecret: GATEWAY_CLIENT.client_secret,
          resource: 'http://127.0.0.1:1/upstream',
          ...change(as.issuer),
        },
      },
    });
    const gateway = await createGateway(config, { logger: silentLogger });
    cleanups.push(() => gateway.stop());
    const started = gateway.start();
    if (expected === null) {
      // Unreachable is not misconfiguration: the gateway starts, not ready, and keeps trying.
      await expect(started).resolves.toBeDefined();
      expect(gateway.upstreamAuth.state).toMatchObject({ status: 'pending' });
      return;
    }
    const error = await started.then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(expected);
    expect((error as Error).message).not.toContain('wrong-secret');
  });
});
