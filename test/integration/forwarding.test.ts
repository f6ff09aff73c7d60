/**
 * Forwarding through the gateway: SSE streams unbuffered, both protocol eras,
 * and failures that leave the gateway serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth } from '../../src/demo/headless-oauth-client.js';
import { startDemoUpstream } from '../../src/demo/upstream-server.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { SERVICE_KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({ config: (config) => ({ ...config, limits: { maxBodyBytes: 64 * 1024 } }) });
  token = await stack.obtainToken();
});
afterAll(async () => stack?.close());

async function initializeSession(): Promise<string> {
  const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
  expect(response.status).toBe(200);
  await response.text();
  const sessionId = response.headers.get('mcp-session-id');
  expect(sessionId).toBeTruthy();
  const initialized = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, {
    ...bearer(token),
    'mcp-session-id': sessionId!,
    'mcp-protocol-version': '2025-11-25',
  });
  expect(initialized.status).toBe(202);
  return sessionId!;
}

describe('SSE streaming', () => {
  it('delivers the first progress notification long before the tool ends', async () => {
    const { client } = await connectWithOAuth(stack.mcpUrl);
    const started = Date.now();
    const progressTimes: number[] = [];
    const result = await client.callTool(
      { name: 'slow_progress', arguments: { steps: 10, intervalMs: 100 } },
      undefined,
      { onprogress: () => progressTimes.push(Date.now() - started) },
    );
    const finished = Date.now() - started;
    await client.close();
    expect(result.isError).toBeFalsy();
    expect(progressTimes.length).toBeGreaterThanOrEqual(5);
    expect(finished).toBeGreaterThanOrEqual(900);
    // Buffering anywhere would deliver every notification together at the end.
    expect(progressTimes[0]!).toBeLessThan(finished - 500);
  });

  it('marks responses X-Accel-Buffering: no', async () => {
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
    await response.text();
    expect(response.headers.get('x-accel-buffering')).toBe('no');
  });
});

describe('sessions (2025-11-25) and stateless requests (2026-07-28)', () => {
  it('round-trips Mcp-Session-Id, opens the GET stream and ends the session with DELETE', async () => {
    const sessionId = await initializeSession();
    const sessionHeaders = { ...bearer(token), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };

    const list = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionHeaders);
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('list_tickets');

    const abort = new AbortController();
    const stream = await fetch(stack.mcpUrl, { headers: { ...sessionHeaders, accept: 'text/event-stream' }, signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    abort.abort();

    const ended = await fetch(stack.mcpUrl, { method: 'DELETE', headers: sessionHeaders });
    expect(ended.status).toBe(200);
    const afterDelete = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders);
    expect(afterDelete.status).toBe(404);
    await afterDelete.text();
    // The client holds a principal-bound wrapper; the upstream only ever sees its own id.
    const upstreamSessionId = Buffer.from(sessionId.split('.')[1]!, 'base64url').toString();
    expect(sessionId.startsWith('s1.')).toBe(true);
    expect(stack.upstream.seen.filter((r) => r.headers['mcp-session-id'] === upstreamSessionId).length).toBeGreaterThanOrEqual(4);
    expect(stack.upstream.seen.some((r) => r.headers['mcp-session-id'] === sessionId)).toBe(false);
  });

  it('passes a stateless 2026-07-28 POST with Mcp-Method / Mcp-Name headers unchanged', async () => {
    const response = await mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'stateless' } } },
      { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-param-text': 'stateless' },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('stateless');
    const seen = stack.upstream.seen.at(-1)!;
    expect(seen.headers['mcp-method']).toBe('tools/call');
    expect(seen.headers['mcp-name']).toBe('echo');
    expect(seen.headers['mcp-param-text']).toBe('stateless');
    expect(seen.headers['mcp-protocol-version']).toBe('2026-07-28');
  });

  it('sends the upstream the original body bytes, forwarding headers and no client credentials', async () => {
    const raw = '{ "jsonrpc": "2.0",   "id": "spaced", "method": "ping" }';
    const response = await mcpPost(stack.mcpUrl, raw, {
      ...bearer(token),
      cookie: 'session=secret-cookie',
      'proxy-authorization': 'Basic c2VjcmV0',
      'x-forwarded-for': '203.0.113.9',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'ping',
    });
    await response.text();
    const seen = stack.upstream.seen.at(-1)!;
    expect(seen.body).toEqual(JSON.parse(raw));
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(raw)));
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-api-key']).toBe(SERVICE_KEY);
    // Not trusted by default: the client's X-Forwarded-For is replaced by the socket address.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(stack.mcpUrl).host);
  });
});

describe('bad input and upstream failures', () => {
  const ping = { jsonrpc: '2.0', id: 41, method: 'ping' };
  const stateless = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };

  async function expectGoodRequestWorks() {
    const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...stateless });
    expect(response.status).toBe(200);
    await response.text();
  }

  it('malformed JSON → 400 with JSON-RPC -32700, then a good request succeeds', async () => {
    const response = await mcpPost(stack.mcpUrl, '{"jsonrpc": "2.0", "id": 1, ', bearer(token));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    await expectGoodRequestWorks();
  });

  it('JSON that is not JSON-RPC → 400 with -32600', async () => {
    const response = await mcpPost(stack.mcpUrl, { hello: 'world' }, bearer(token));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('body over the limit → 413, then a good request succeeds', async () => {
    const big = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(100 * 1024) } } };
    const response = await mcpPost(stack.mcpUrl, big, bearer(token));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    await expectGoodRequestWorks();
  });

  it('a chunked body over the limit (no Content-Length) → 413', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    await response.text();
    await expectGoodRequestWorks();
  });

  it('upstream down → 502 with a JSON-RPC error echoing the id, and recovery when it returns', async () => {
    const upstreamPort = Number(new URL(stack.upstream.url).port);
    await stack.upstream.close();
    const down = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...stateless });
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ jsonrpc: '2.0', id: 41, error: { code: -32603 } });

    stack.upstream = await startDemoUpstream({ port: upstreamPort, requiredCredential: { header: 'x-api-key', value: SERVICE_KEY } });
    await expectGoodRequestWorks();
  });

  it('unsupported methods → 405 with Allow', async () => {
    const response = await fetch(stack.mcpUrl, { method: 'PUT', headers: bearer(token) });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, GET, DELETE');
  });

  it('unknown paths → 404 JSON', async () => {
    const response = await fetch(new URL('/nope', stack.mcpUrl));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});
