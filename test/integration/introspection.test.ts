/**
 * RFC 7662 introspection against a real oidc-provider issuing opaque access tokens: active,
 * revoked, expired (the cache never outlives `exp`), wrong audience, the endpoint down (503, fail
 * closed, audited) and back, refused client credentials reported clearly, and JWTs of the same
 * issuer still verified locally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { auditRecordsOf } from '../helpers/audit-wait.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';

const GATEWAY_CLIENT = { client_id: 'mcp-gateway', client_secret: 'gateway-introspection-secret-0123456789' };
const POST_CLIENT = { client_id: 'mcp-gateway-post', client_secret: 'gateway-post-secret-0123456789' };
/** A confidential client standing in for an administrator: gets client credentials tokens and revokes tokens. */
const OPS_CLIENT = { client_id: 'ops', client_secret: 'ops-secret-0123456789' };
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-service';
const SHORT_LIVED = 'http://127.0.0.1:1/short-lived-for-gateway';
const JWT_FOR_GATEWAY = 'http://127.0.0.1:1/jwt-for-gateway';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    as: ({ mcpUrl }) => ({
      introspection: true,
      user: { sub: 'demo-user', claims: { groups: ['support'] } },
      resources: [
        { resource: mcpUrl, scopes: ['tickets:read', 'tickets:write'], accessTokenFormat: 'opaque' },
        { resource: OTHER_RESOURCE, scopes: ['tickets:read'], accessTokenFormat: 'opaque' },
        { resource: SHORT_LIVED, scopes: ['tickets:read'], audience: mcpUrl, accessTokenTtlSeconds: 2, accessTokenFormat: 'opaque' },
        { resource: JWT_FOR_GATEWAY, scopes: ['tickets:read'], audience: mcpUrl },
      ],
      clients: [
        { ...GATEWAY_CLIENT, grant_types: [], response_types: [], redirect_uris: [] },
        { ...POST_CLIENT, grant_types: [], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_post' },
        { ...OPS_CLIENT, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
      ],
    }),
    config: (config) => ({
      ...config,
      authorizationServers: config.authorizationServers.map((server) => ({
        ...server,
        introspection: { clientId: GATEWAY_CLIENT.client_id, clientSecret: GATEWAY_CLIENT.client_secret, cacheMaxSeconds: 60, failureCooldownMs: 200 },
      })),
    }),
  });
});
afterAll(async () => stack?.close());

const opsAuthorization = `Basic ${Buffer.from(`${OPS_CLIENT.client_id}:${OPS_CLIENT.client_secret}`).toString('base64')}`;

async function clientCredentialsToken(resource = stack.mcpUrl): Promise<string> {
  const response = await fetch(`${stack.as.baseUrl}/token`, {
    method: 'POST',
    headers: { authorization: opsAuthorization },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'tickets:read' }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function revoke(token: string): Promise<void> {
  const response = await fetch(stack.as.revocationEndpoint, { method: 'POST', headers: { authorization: opsAuthorization }, body: new URLSearchParams({ token }) });
  expect(response.status).toBe(200);
}

async function initialize(token: string) {
  const before = stack.upstream.seen.length;
  const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
  const body = await response.text();
  return { status: response.status, headers: response.headers, body, reachedUpstream: stack.upstream.seen.length > before, audit: () => auditRecordsOf(stack, response) };
}

const tokensUsed: string[] = [];
const track = (token: string) => (tokensUsed.push(token), token);

describe('opaque tokens, checked by introspection', () => {
  it('the issuer is ready once its introspection endpoint (discovered) accepted the gateway\'s credentials', async () => {
    expect(stack.gateway.verifier.issuers[0]?.state).toEqual({ status: 'ready', jwksUri: stack.as.jwksUri, introspectionEndpoint: stack.as.introspectionEndpoint });
    const readiness = (await (await fetch(new URL('/readyz', stack.mcpUrl))).json()) as { ready: boolean };
    expect(readiness.ready).toBe(true);
  });

  it('accepts an active opaque token; the principal comes from the introspection response; the answer is cached', async () => {
    const token = track((await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read tickets:write' })).accessToken);
    expect(token.split('.')).toHaveLength(1);
    const before = stack.as.introspectionRequests;
    expect((await initialize(token)).status).toBe(200);
    const second = await initialize(token);
    expect(second.status).toBe(200);
    expect(stack.as.introspectionRequests).toBe(before + 1);

    const principal = await stack.gateway.verifier.verify(token);
    expect(principal).toMatchObject({ issuer: stack.as.issuer, subject: 'demo-user', authenticationMethod: 'introspection' });
    expect([...principal.scopes].sort()).toEqual(['tickets:read', 'tickets:write']);
    // Claim conditions see the raw claims, including the user's groups.
    expect(principal.claims.groups).toEqual(['support']);
    const [record] = await second.audit();
    expect(record?.who).toMatchObject({ issuer: stack.as.issuer, subject: 'demo-user', authMethod: 'introspection' });
  });

  it('a revoked token → 401 invalid_token (reason inactive); repeating it does not ask the issuer again', async () => {
    const token = track(await clientCredentialsToken());
    await revoke(token);
    const before = stack.as.introspectionRequests;
    const refused = await initialize(token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(refused.reachedUpstream).toBe(false);
    expect((await refused.audit())[0]?.outcome).toMatchObject({ status: 401, reason: 'inactive' });
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await initialize(token)).status).toBe(401);
    // The refusal is remembered for inactiveCacheSeconds: one introspection for four requests.
    expect(stack.as.introspectionRequests).toBe(before + 1);
  });

  it('a client credentials token (no sub) is accepted with the client as subject', async () => {
    const principal = await stack.gateway.verifier.verify(track(await clientCredentialsToken()));
    expect(principal).toMatchObject({ subject: OPS_CLIENT.client_id, clientId: OPS_CLIENT.client_id, authenticationMethod: 'introspection' });
  });

  it('the cache never outlives exp: after expiry the issuer is asked again and the token is refused', async () => {
    const token = track((await stack.as.obtainUserToken({ resource: SHORT_LIVED, scope: 'tickets:read' })).accessToken);
    expect((await initialize(token)).status).toBe(200);
    const principal = await stack.gateway.verifier.verify(token);
    const before = stack.as.introspectionRequests;
    await new Promise((resolve) => setTimeout(resolve, principal.expiresAt * 1000 - Date.now() + 50));
    const refused = await initialize(token);
    expect(refused.status).toBe(401);
    expect(stack.as.introspectionRequests).toBe(before + 1);
  });

  it('an active token for another resource → 401 (reason wrong_audience)', async () => {
    const token = track((await stack.as.obtainUserToken({ resource: OTHER_RESOURCE, scope: 'tickets:read' })).accessToken);
    const refused = await initialize(token);
    expect(refused.status).toBe(401);
    expect(refused.reachedUpstream).toBe(false);
    expect((await refused.audit())[0]?.outcome).toMatchObject({ reason: 'wrong_audience' });
  });

  it('a JWT of the same issuer is still verified locally with its keys, without introspection', async () => {
    const token = track((await stack.as.obtainUserToken({ resource: JWT_FOR_GATEWAY, scope: 'tickets:read' })).accessToken);
    const before = stack.as.introspectionRequests;
    expect((await initialize(token)).status).toBe(200);
    expect(stack.as.introspectionRequests).toBe(before);
    expect((await stack.gateway.verifier.verify(token)).authenticationMethod).toBe('jwt');
  });

  it('the endpoint down → 503 with Retry-After and a JSON-RPC error, audited, nothing forwarded; then it recovers', async () => {
    const token = track((await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read' })).accessToken);
    await stack.as.suspend();
    try {
      const unavailable = await initialize(token);
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('retry-after')).toBe('1');
      expect(unavailable.headers.get('www-authenticate')).toBeNull();
      // Authentication runs before the body is read, so the JSON-RPC id is null (as for a 401).
      expect(JSON.parse(unavailable.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32603 } });
      expect(unavailable.reachedUpstream).toBe(false);
      expect((await unavailable.audit())[0]).toMatchObject({
        event: 'authentication.failure',
        outcome: { status: 503, reason: 'introspection_unavailable', errorCode: 'introspection_unavailable' },
      });
      // Within the cooldown the gateway does not even try: still 503, fast.
      expect((await initialize(token)).status).toBe(503);
    } finally {
      await stack.as.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await initialize(token)).status).toBe(200);
  });

  it('never writes a token into the log or the audit trail', () => {
    const output = stack.logOutput() + stack.auditOutput();
    for (const token of tokensUsed) expect(output).not.toContain(token);
  });
});

describe('introspection client authentication', () => {
  function gatewayConfig(introspection: Record<string, unknown>): GatewayConfigInput {
    return {
      resource: { url: stack.mcpUrl },
      authorizationServers: [{ issuer: stack.as.issuer, introspection: { introspectJwts: true, failureCooldownMs: 0, ...introspection } as never }],
      upstream: { url: 'http://127.0.0.1:9/mcp' },
    };
  }

  it('client_secret_post works as well as client_secret_basic', async () => {
    const gateway = await createGateway(
      validateConfig(gatewayConfig({ clientId: POST_CLIENT.client_id, clientSecret: POST_CLIENT.client_secret, clientAuthentication: 'client_secret_post' })),
      { logger: createLogger('silent'), auditSink: { type: 'stream', write: () => undefined } },
    );
    gateway.verifier.start();
    try {
      await gateway.verifier.issuers[0]!.whenReady();
      // Introspection-only: no JWKS is fetched for this issuer.
      expect(gateway.verifier.issuers[0]!.state).toEqual({ status: 'ready', introspectionEndpoint: stack.as.introspectionEndpoint });
      const token = track((await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read' })).accessToken);
      expect(await gateway.verifier.verify(token)).toMatchObject({ subject: 'demo-user', authenticationMethod: 'introspection' });
    } finally {
      gateway.verifier.stop();
    }
  });

  it('refused credentials: not ready, /readyz and the log say why, requests get 503 (never 200, never 401)', async () => {
    let log = '';
    const gateway = await createGateway(validateConfig(gatewayConfig({ clientId: GATEWAY_CLIENT.client_id, clientSecret: 'not-the-secret' })), {
      logger: createLogger('info', { write: (line: string) => ((log += line), true) } as never),
      auditSink: { type: 'stream', write: () => undefined },
    });
    gateway.verifier.start();
    try {
      await expect.poll(() => gateway.verifier.issuers[0]!.state.lastError, { timeout: 5000 }).toContain("refused the gateway's client credentials (HTTP 401 invalid_client)");
      const readiness = await gateway.app.request('/readyz');
      expect(readiness.status).toBe(503);
      const body = (await readiness.json()) as { authorizationServers: Record<string, { status: string; lastError: string }> };
      expect(body.authorizationServers[stack.as.issuer]).toMatchObject({ status: 'pending', lastError: expect.stringContaining('check introspection.clientId, clientSecret') });
      expect(log).toContain("refused the gateway's client credentials");
      expect(log).not.toContain('not-the-secret');

      const token = track((await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read' })).accessToken);
      await expect(gateway.verifier.verify(token)).rejects.toMatchObject({ code: 'introspection_unavailable' });
    } finally {
      gateway.verifier.stop();
    }
  });
});
