/**
 * Readiness, JWKS outages, upstream timeouts and graceful shutdown.
 */
import { generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { startDemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { startDemoUpstream } from '../../src/demo/upstream-server.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { findFreePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function stackFor(options: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const stack = await startStack(options);
  cleanups.push(() => stack.close());
  return stack;
}

const statelessPing = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };
const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

describe('where /healthz, /readyz and /metrics are served', () => {
  const get = (origin: string, path: string) => fetch(`${origin}${path}`).then(async (r) => ({ status: r.status, body: await r.text() }));

  it('on the main port by default, and the probes stay there when metrics are disabled', async () => {
    const stack = await stackFor({ config: (config) => ({ ...config, metrics: { enabled: false } }) });
    const origin = new URL(stack.mcpUrl).origin;
    expect((await get(origin, '/healthz')).status).toBe(200);
    expect((await get(origin, '/readyz')).status).toBe(200);
    expect((await get(origin, '/metrics')).status).toBe(404);
  });

  it('on the admin port alone with metrics.port (the Kubernetes manifests probe and scrape it there)', async () => {
    const adminPort = await findFreePort();
    const stack = await stackFor({ config: (config) => ({ ...config, metrics: { port: adminPort, host: '127.0.0.1' } }) });
    const origin = new URL(stack.mcpUrl).origin;
    const admin = `http://127.0.0.1:${adminPort}`;
    expect(stack.gateway.admin?.origin).toBe(admin);
    expect((await get(admin, '/healthz')).status).toBe(200);
    expect(JSON.parse((await get(admin, '/readyz')).body)).toMatchObject({ ready: true, policy: { version: expect.any(String) } });
    expect((await get(admin, '/metrics')).body).toContain('mcp_gateway_policy_info');
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await get(origin, path)).status, path).not.toBe(200);
  });
});

describe('readiness and the JWKS', () => {
  it('is not ready while the JWKS is unreachable at start, and becomes ready when it appears', async () => {
    const asPort = await findFreePort();
    const gatewayPort = await findFreePort();
    const mcpUrl = `http://127.0.0.1:${gatewayPort}/mcp`;
    const upstream = await startDemoUpstream();
    cleanups.push(() => upstream.close());
    const config = validateConfig({
      listen: { port: gatewayPort },
      resource: { url: mcpUrl },
      authorizationServers: [{ issuer: `http://127.0.0.1:${asPort}`, metadataTimeoutMs: 500 }],
      upstream: { url: upstream.url },
    });
    const gateway = await createGateway(config, { logger: silentLogger });
    await gateway.start();
    cleanups.push(() => gateway.stop());

    const notReady = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false });
    expect((await fetch(`http://127.0.0.1:${gatewayPort}/healthz`)).status).toBe(200);

    const as = await startDemoAuthorizationServer({ port: asPort, resources: [{ resource: mcpUrl, scopes: ['tickets:read'] }] });
    cleanups.push(() => as.close());
    await gateway.verifier.issuers[0]!.whenReady();
    const ready = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`);
    expect(ready.status).toBe(200);
    const token = (await as.obtainUserToken({ resource: mcpUrl, scope: 'tickets:read' })).accessToken;
    expect((await mcpPost(mcpUrl, INITIALIZE, bearer(token))).status).toBe(200);
  });

  it('keeps accepting tokens signed with known keys while the JWKS is down; an unknown kid gets 401, not 500', async () => {
    const stack = await stackFor({ config: (config) => ({ ...config, tokenCache: { maxEntries: 0 } }) });
    await stack.as.close();

    // A fresh token (not cached: the cache is off) signed with the key the gateway already knows.
    const known = await craftToken(stack.as, stack.mcpUrl);
    const allowed = await mcpPost(stack.mcpUrl, ping, { ...bearer(known), ...statelessPing });
    expect(allowed.status).toBe(200);
    await allowed.text();

    const { privateKey } = await generateKeyPair('ES256');
    const unknown = await craftToken(stack.as, stack.mcpUrl, { key: privateKey, header: { kid: 'rotated-while-down' } });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const refused = await mcpPost(stack.mcpUrl, ping, { ...bearer(unknown), ...statelessPing });
      expect(refused.status).toBe(401);
      await refused.text();
    }
    // A background refresh failing does not drop the known keys either.
    await expect(stack.gateway.verifier.issuers[0]!.refresh()).rejects.toThrow();
    const stillAllowed = await mcpPost(stack.mcpUrl, ping, { ...bearer(await craftToken(stack.as, stack.mcpUrl)), ...statelessPing });
    expect(stillAllowed.status).toBe(200);
  });
});

describe('upstream timeouts', () => {
  it('an upstream slower than responseTimeoutMs → 504 with a JSON-RPC error, and the gateway keeps serving', async () => {
    const stack = await stackFor({
      upstream: { jsonResponse: true },
      config: (config) => ({ ...config, upstream: { ...config.upstream, responseTimeoutMs: 300 } }),
    });
    const token = await stack.obtainToken();
    const slow = await mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id: 'slow-1', method: 'tools/call', params: { name: 'slow_progress', arguments: { steps: 10, intervalMs: 100 } } },
      { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow_progress' },
    );
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ jsonrpc: '2.0', id: 'slow-1', error: { code: -32603 } });
    const fine = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...statelessPing });
    expect(fine.status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight call finish, reports not ready while draining, and stops as soon as nothing is in flight', async () => {
    const stack = await stackFor({ config: (config) => ({ ...config, shutdown: { drainTimeoutMs: 2000 } }) });
    const token = await stack.obtainToken();
    const inFlight = mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id: 'long', method: 'tools/call', params: { name: 'slow_progress', arguments: { steps: 5, intervalMs: 100 } } },
      { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow_progress' },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = stack.gateway.stop();
    const readiness = await stack.gateway.app.request('/readyz');
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ draining: true, ready: false });

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('"result"');
    const stoppedAt = Date.now();
    await stopping;
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
  });

  it('closes a long-lived SSE stream once the drain timeout has passed', async () => {
    const stack = await stackFor({ config: (config) => ({ ...config, shutdown: { drainTimeoutMs: 300 } }) });
    const token = await stack.obtainToken();
    const init = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
    await init.text();
    const sessionId = init.headers.get('mcp-session-id')!;
    const headers = { ...bearer(token), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await (await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).text();
    const stream = await fetch(stack.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    const reading = stream.text().then(
      () => 'ended',
      () => 'cut',
    );
    const started = Date.now();
    await stack.gateway.stop();
    expect(await reading).toMatch(/ended|cut/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('lame duck (shutdown.lameDuckMs)', () => {
  it('answers /readyz 503 at once but keeps serving new connections until the lame-duck period ends', async () => {
    const stack = await stackFor({ config: (config) => ({ ...config, shutdown: { lameDuckMs: 600, drainTimeoutMs: 300 } }) });
    const token = await stack.obtainToken();
    const origin = new URL(stack.mcpUrl).origin;
    const started = Date.now();
    const stopping = stack.gateway.stop();

    // Over the network (new connections), as the kubelet and a load balancer see it.
    const readiness = await fetch(`${origin}/readyz`, { headers: { connection: 'close' } });
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ ready: false, draining: true });
    expect((await fetch(`${origin}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);
    const served = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...statelessPing, connection: 'close' });
    expect(served.status).toBe(200);
    await served.text();

    await stopping;
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
  });

  it('without a lame-duck period (the default) stops accepting connections at once', async () => {
    const stack = await stackFor();
    expect(stack.config.shutdown.lameDuckMs).toBe(0);
    const origin = new URL(stack.mcpUrl).origin;
    const stopping = stack.gateway.stop();
    await expect(fetch(`${origin}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
    await stopping;
  });
});
