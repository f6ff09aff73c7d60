/**
 * Browser safety, abuse limits and session binding on a real stack.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { findFreePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
const SECRET = 'session-binding-test-secret-0123456789';
beforeAll(async () => {
  stack = await startStack({
    config: (config) => ({
      ...config,
      security: { allowedOrigins: ['https://inspector.example.com'] },
      sessions: { bindingSecrets: [SECRET] },
      limits: {
        headersTimeoutMs: 1000,
        // A slow refill, so the test does not depend on how fast this machine sends 26 requests.
        rateLimit: { requestsPerSecond: 0.5, burst: 20 },
        maxStreamsPerPrincipal: 2,
        maxBatchLength: 3,
        maxJsonDepth: 8,
        maxHeaderBytes: 4096,
        sseKeepAliveSeconds: 1,
        sseIdleTimeoutSeconds: 0,
      },
    }),
  });
});
afterAll(async () => stack?.close());

const statelessPing = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };
const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

async function openSession(token: string): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const init = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
  // A failed initialize would otherwise surface later as a puzzling 404 for the owner.
  expect(init.status, await init.text()).toBe(200);
  const sessionId = init.headers.get('mcp-session-id')!;
  expect(sessionId).toMatch(/^s1\./);
  const headers = { ...bearer(token), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  const initialized = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  expect(initialized.status, await initialized.text()).toBe(202);
  return { sessionId, headers };
}

describe('Origin and CORS', () => {
  it('refuses a foreign Origin with 403 before authentication, and nothing reaches the upstream', async () => {
    const before = stack.upstream.seen.length;
    const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...statelessPing, origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: -32600, message: 'Origin not allowed' } });
    const unauthenticated = await mcpPost(stack.mcpUrl, ping, { origin: 'https://evil.example' });
    expect(unauthenticated.status).toBe(403);
    expect(stack.upstream.seen.length).toBe(before);
    expect(stack.auditRecords().at(-1)).toMatchObject({ event: 'request.rejected', outcome: { status: 403, errorCode: 'forbidden_origin' } });
  });

  it('answers preflights without authentication, allowing the MCP headers (Mcp-Param-* included)', async () => {
    const response = await fetch(stack.mcpUrl, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://inspector.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region, x-evil',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://inspector.example.com');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    const foreign = await fetch(stack.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.status).toBe(403);
  });

  it('puts CORS headers on forwarded responses and on errors for an allowed origin', async () => {
    const ok = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...statelessPing, origin: 'https://inspector.example.com' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://inspector.example.com');
    expect(ok.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    const unauthorized = await mcpPost(stack.mcpUrl, ping, { origin: 'https://inspector.example.com' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('https://inspector.example.com');
    expect(unauthorized.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });
});

describe('limits', () => {
  it('rate-limits a principal: 429 with Retry-After once the burst is spent, audited', async () => {
    const token = await stack.obtainToken();
    // All at once: sent one after another, a loaded machine refills the bucket (5/s) as fast as it is drained.
    const responses = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...statelessPing });
        await response.text();
        return response;
      }),
    );
    const limited = responses.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(responses.filter((response) => response.status === 200).length).toBeGreaterThanOrEqual(19);
    const limitedId = limited[0]!.headers.get('x-request-id');
    expect(stack.auditRecords().find((record) => record.requestId === limitedId)).toMatchObject({ event: 'request.rejected', outcome: { status: 429, errorCode: 'rate_limited' } });
    // Another principal is not affected.
    const other = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...statelessPing });
    expect(other.status).toBe(200);
  });

  it('caps long-lived streams per principal', async () => {
    const token = await stack.obtainToken();
    const { headers } = await openSession(token);
    const streams: AbortController[] = [];
    const open = async () => {
      const abort = new AbortController();
      streams.push(abort);
      return fetch(stack.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' }, signal: abort.signal });
    };
    expect((await open()).status).toBe(200);
    // The SDK server allows one GET stream per session: the second goes to another session.
    const second = await openSession(token);
    const response = await fetch(stack.mcpUrl, { headers: { ...second.headers, accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    const third = await fetch(stack.mcpUrl, { headers: { ...second.headers, accept: 'text/event-stream' } });
    expect(third.status).toBe(429);
    await third.text();
    streams.forEach((abort) => abort.abort());
    await response.body?.cancel();
  });

  it('refuses batches that are too long and JSON nested too deep', async () => {
    const token = await stack.obtainToken();
    const batch = await mcpPost(stack.mcpUrl, [ping, ping, ping, ping], bearer(token));
    expect(batch.status).toBe(400);
    expect(await batch.json()).toMatchObject({ error: { code: -32600 } });
    const deep = `{"jsonrpc":"2.0","id":1,"method":"ping","params":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}`;
    const nested = await mcpPost(stack.mcpUrl, deep, bearer(token));
    expect(nested.status).toBe(400);
  });

  it('refuses oversized headers with 431', async () => {
    const response = await mcpPost(stack.mcpUrl, ping, { 'x-padding': 'x'.repeat(8000) });
    expect(response.status).toBe(431);
  });

  it('sends keep-alive comments on a quiet SSE stream', async () => {
    const token = await stack.obtainToken();
    const { headers } = await openSession(token);
    const abort = new AbortController();
    const response = await fetch(stack.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' }, signal: abort.signal });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain(': keep-alive');
    abort.abort();
  });
});

describe('idle SSE streams', () => {
  it('ends a stream the upstream has been silent on for sseIdleTimeoutSeconds', async () => {
    const idle = await startStack({ config: (config) => ({ ...config, limits: { sseKeepAliveSeconds: 0, sseIdleTimeoutSeconds: 1 } }) });
    try {
      const token = await idle.obtainToken();
      const init = await mcpPost(idle.mcpUrl, INITIALIZE, bearer(token));
      await init.text();
      const headers = { ...bearer(token), 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
      await (await mcpPost(idle.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).text();
      const started = Date.now();
      const stream = await fetch(idle.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
      expect(stream.status).toBe(200);
      const ended = await stream.text().then(() => 'ended', () => 'cut');
      expect(ended).toMatch(/ended|cut/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await idle.close();
    }
  });
});

describe('session binding', () => {
  it('a session id is useless to another principal (404, audited) and to a tampered copy', async () => {
    const owner = await stack.obtainToken();
    const intruder = await stack.obtainToken(); // another dynamically registered client: another principal
    const { sessionId, headers } = await openSession(owner);
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const own = await mcpPost(stack.mcpUrl, list, headers);
    expect(own.status, await own.text()).toBe(200);

    const before = stack.upstream.seen.length;
    const stolen = await mcpPost(stack.mcpUrl, list, { ...headers, ...bearer(intruder) });
    expect(stolen.status).toBe(404);
    expect(await stolen.json()).toMatchObject({ id: 2, error: { message: 'Session not found' } });
    expect(stack.auditRecords().at(-1)).toMatchObject({ event: 'mcp.message', outcome: { status: 404, result: 'rejected', errorCode: 'session_not_found' } });

    const [prefix, id, mac] = sessionId.split('.');
    const tampered = await mcpPost(stack.mcpUrl, list, { ...headers, 'mcp-session-id': `${prefix}.${id}.${mac!.slice(0, -2)}AA` });
    expect(tampered.status).toBe(404);
    const raw = await mcpPost(stack.mcpUrl, list, { ...headers, 'mcp-session-id': Buffer.from(id!, 'base64url').toString() });
    expect(raw.status).toBe(404);
    expect(stack.upstream.seen.length).toBe(before);
  });

  it('works across replicas sharing the binding secret (with rotation), and not with another secret', async () => {
    const token = await stack.obtainToken();
    const { headers } = await openSession(token);
    const list = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
    // Replicas share the public URL (the token audience) and listen elsewhere.
    const replica = async (bindingSecrets: string[]) => {
      const port = await findFreePort();
      const gateway = await createGateway(
        { ...stack.config, listen: { ...stack.config.listen, port }, sessions: { bind: true, bindingSecrets } },
        { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } },
      );
      await gateway.start();
      await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));
      return { gateway, url: `http://127.0.0.1:${port}/mcp` };
    };
    const rotated = await replica(['a-newer-secret-now-signing', SECRET]);
    const foreign = await replica(['another-deployment-secret']);
    try {
      const same = await mcpPost(rotated.url, list, headers);
      expect(same.status).toBe(200);
      expect(await same.text()).toContain('list_tickets');
      const other = await mcpPost(foreign.url, list, headers);
      expect(other.status).toBe(404);
    } finally {
      await rotated.gateway.stop();
      await foreign.gateway.stop();
    }
  });
});

describe('slow clients', () => {
  it('drops a client that never finishes its headers', async () => {
    expect(stack.config.limits.headersTimeoutMs).toBe(1000);
    const socket = connect(Number(new URL(stack.mcpUrl).port), '127.0.0.1');
    socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    let received = '';
    socket.on('data', (chunk) => (received += String(chunk)));
    socket.on('error', () => undefined);
    const closed = await Promise.race([
      new Promise<string>((resolve) => socket.on('close', () => resolve('closed'))),
      new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000)),
    ]);
    socket.destroy();
    expect(closed).toBe('closed');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });
});
