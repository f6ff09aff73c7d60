/**
 * RFC 8693 token exchange with real parts: oidc-provider exchanges the user's token (issued for
 * the gateway) for one whose audience is the upstream; the upstream verifies it with jose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, ConfigError } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { confidentialClient, GATEWAY_CLIENT, TOKEN_EXCHANGE_GRANT, upstreamAuthStack } from '../helpers/upstream-auth.js';
import { httpUpstream } from '../helpers/http-upstream.js';

const stateless = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
const echo = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `call ${id}` } } });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(
    upstreamAuthStack({
      credential: ({ issuer, upstreamUrl }) => ({
        type: 'token_exchange',
        issuer,
        clientId: GATEWAY_CLIENT.client_id,
        clientSecret: GATEWAY_CLIENT.client_secret,
        resource: upstreamUrl,
        failureCooldownMs: 100,
      }),
    }),
  );
});
afterAll(async () => stack?.close());

const exchanges = () => stack.as.tokenRequests.filter((request) => request.grantType === TOKEN_EXCHANGE_GRANT && !request.error);

describe('token exchange', () => {
  it('exchanges the user token for an upstream token; the upstream sees the user, never the user token', async () => {
    const userToken = await stack.obtainToken('tickets:read tickets:write');
    const before = exchanges().length;
    for (let id = 1; id <= 3; id += 1) {
      const response = await mcpPost(stack.mcpUrl, echo(id), { ...bearer(userToken), ...stateless });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(`call ${id}`);
    }
    // Cached per user token until it nears expiry: one exchange for three calls.
    expect(exchanges().length - before).toBe(1);

    const seen = stack.upstream.seen.at(-1)!;
    const agent = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString()).client_id as string;
    expect(seen.verified.bearer).toMatchObject({
      sub: 'demo-user',
      aud: stack.upstream.url,
      client_id: GATEWAY_CLIENT.client_id,
      scope: 'tickets:read tickets:write',
      act: { sub: GATEWAY_CLIENT.client_id, act: { sub: agent } },
    });
    expect(JSON.stringify(stack.upstream.seen)).not.toContain(userToken);
    const upstreamToken = seen.headers.authorization!.slice('Bearer '.length);
    expect(stack.logOutput()).not.toContain(userToken);
    expect(stack.logOutput()).not.toContain(upstreamToken);

    // The audit record names the three identities: user and agent (who), and the service
    // credential (upstream.credential), without any token.
    const record = stack.auditRecords().at(-1)!;
    expect(record.who).toMatchObject({ subject: 'demo-user', clientId: agent });
    expect(record.upstream?.credential).toEqual({
      kind: 'token_exchange',
      clientId: GATEWAY_CLIENT.client_id,
      subject: 'demo-user',
      authorizationServer: expect.any(String),
      target: stack.upstream.url,
    });
    expect(stack.auditOutput()).not.toContain(userToken);
    expect(stack.auditOutput()).not.toContain(upstreamToken);
  });

  it('exchanges again for another user token (cache entries are per token)', async () => {
    const before = exchanges().length;
    const [first, second] = [await stack.obtainToken(), await stack.obtainToken()];
    for (const token of [first, second, first, second]) {
      const response = await mcpPost(stack.mcpUrl, echo(5), { ...bearer(token!), ...stateless });
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(exchanges().length - before).toBe(2);
  });

  it('the AS down: 503 for a user whose token was never exchanged, cached ones keep working; then recovery', async () => {
    const cached = await stack.obtainToken();
    await (await mcpPost(stack.mcpUrl, echo(1), { ...bearer(cached), ...stateless })).text();
    const fresh = await stack.obtainToken();
    await stack.as.suspend();
    try {
      const down = await mcpPost(stack.mcpUrl, echo(2), { ...bearer(fresh), ...stateless });
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ jsonrpc: '2.0', id: 2, error: { code: -32603 } });
      const stillCached = await mcpPost(stack.mcpUrl, echo(3), { ...bearer(cached), ...stateless });
      expect(stillCached.status).toBe(200);
      await stillCached.text();
    } finally {
      await stack.as.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
    const back = await mcpPost(stack.mcpUrl, echo(4), { ...bearer(fresh), ...stateless });
    expect(back.status).toBe(200);
    await back.text();
  });

  it('a refused exchange (the user token is not exchangeable) → 502, and the client sees no AS detail', async () => {
    // A token for another audience the gateway also accepts, which the AS will not exchange for this client.
    const other = await stack.obtainToken('tickets:read', 'http://127.0.0.1:1/other-service');
    const gateway = await createGateway(
      validateConfig({ ...stack.config, listen: { host: '127.0.0.1', port: 0 }, authorizationServers: [{ issuer: stack.as.issuer, audiences: ['http://127.0.0.1:1/other-service'] }] }),
      // Its audit record would go to stdout, into the test run's output.
      { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } },
    );
    const listening = await gateway.start();
    try {
      await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));
      const url = `${listening.origin}/mcp`;
      const refused = await mcpPost(url, echo(6), { ...bearer(other), ...stateless });
      expect(refused.status).toBe(502);
      const body = await refused.text();
      expect(JSON.parse(body)).toMatchObject({ id: 6, error: { code: -32603 } });
      expect(body).not.toContain('invalid_grant');
    } finally {
      await gateway.stop();
    }
  });

  it('a wrong client secret is reported at start-up (the probe exchange)', async () => {
    const config = validateConfig({
      ...stack.config,
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { ...httpUpstream(stack.config), credential: { ...httpUpstream(stack.config).credential!, clientSecret: 'not-the-secret-0123456789' } as never },
    });
    const gateway = await createGateway(config, { logger: silentLogger });
    const error = await gateway.start().then(() => undefined, (reason: unknown) => reason);
    await gateway.stop();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/upstream\.credential\.clientId: .*invalid_client/);
  });

  it('a client registered without the grant: the probe is inconclusive (oidc-provider says invalid_request), the exchange is refused → 502', async () => {
    const restricted = await startStack(
      upstreamAuthStack({
        clients: [confidentialClient({ ...GATEWAY_CLIENT, grant_types: ['client_credentials'] })],
        credential: ({ issuer, upstreamUrl }) => ({
          type: 'token_exchange',
          issuer,
          clientId: GATEWAY_CLIENT.client_id,
          clientSecret: GATEWAY_CLIENT.client_secret,
          resource: upstreamUrl,
        }),
      }),
    );
    try {
      expect(restricted.logOutput()).toContain('token exchange start-up check inconclusive');
      const response = await mcpPost(restricted.mcpUrl, echo(9), { ...bearer(await restricted.obtainToken()), ...stateless });
      expect(response.status).toBe(502);
      await response.text();
    } finally {
      await restricted.close();
    }
  });
});
