import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../src/demo/upstream-server.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  // Clients first, so their SSE streams end before the server closes its sockets.
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function startUpstream(opts?: DemoUpstreamOptions): Promise<DemoUpstream> {
  const upstream = await startDemoUpstream(opts);
  cleanups.push(() => upstream.close());
  return upstream;
}

async function connectClient(url: string, headers?: Record<string, string>) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'upstream-test', version: '0.0.0' });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

function firstText(result: unknown): string | undefined {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  return content?.[0]?.text;
}

/** Reads the JSON-RPC messages out of an SSE body (enough for these tests: one `data:` line per event). */
function parseSseMessages(text: string): unknown[] {
  return text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as unknown);
}

function buildStatelessHeaders(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'echo',
    ...overrides,
  };
}

const echoCall = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'stateless hi' } } };

describe('demo upstream, 2025-11-25 sessions through the SDK client', () => {
  it('lists the ticketing tools, prompt and resources', async () => {
    const upstream = await startUpstream();
    const { client } = await connectClient(upstream.url);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'admin_delete_ticket', 'create_ticket', 'echo', 'fail_tool', 'get_ticket', 'list_tickets', 'slow_progress',
    ]);
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['summarize_ticket']);
    const readme = await client.readResource({ uri: 'docs://readme' });
    expect(readme.contents[0]?.uri).toBe('docs://readme');
    const ticket = await client.readResource({ uri: 'tickets://T-1' });
    const ticketContent = ticket.contents[0];
    expect(ticketContent && 'text' in ticketContent ? JSON.parse(ticketContent.text) : undefined).toMatchObject({ id: 'T-1' });
    const prompt = await client.getPrompt({ name: 'summarize_ticket', arguments: { id: 'T-2' } });
    expect(JSON.stringify(prompt.messages)).toContain('Typo in invoice footer');
  });

  it('calls echo, create/list tickets, and reports fail_tool as isError', async () => {
    const upstream = await startUpstream();
    const { client } = await connectClient(upstream.url);

    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'hello' } }))).toBe('hello');
    await client.callTool({ name: 'create_ticket', arguments: { title: 'New one' } });
    expect(firstText(await client.callTool({ name: 'list_tickets', arguments: {} }))).toContain('New one');
    const failed = await client.callTool({ name: 'fail_tool', arguments: {} });
    expect(failed.isError).toBe(true);
  });

  it('streams slow_progress notifications before the result arrives', async () => {
    const upstream = await startUpstream();
    const { client } = await connectClient(upstream.url);
    const progressAt: number[] = [];
    const started = Date.now();

    const result = await client.callTool(
      { name: 'slow_progress', arguments: { steps: 5, intervalMs: 100 } },
      undefined,
      { onprogress: () => { progressAt.push(Date.now() - started); } },
    );
    const resultAt = Date.now() - started;

    expect(firstText(result)).toBe('completed 5 steps');
    expect(progressAt).toHaveLength(5);
    // Five 100 ms steps: the first notification must land ~400 ms before the result, not with it.
    expect(resultAt - (progressAt[0] ?? resultAt)).toBeGreaterThanOrEqual(250);
    // SDK default (enableJsonResponse: false): tools/call is answered as SSE.
    const call = upstream.seen.find((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
    expect(call?.headers['accept']).toBe('application/json, text/event-stream');
  });

  it('issues a session id, routes by it, and DELETE ends the session', async () => {
    const upstream = await startUpstream();
    const { client, transport } = await connectClient(upstream.url);
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

    await client.listTools();
    const listCall = upstream.seen.find((r) => (r.body as { method?: string } | undefined)?.method === 'tools/list');
    expect(listCall?.headers['mcp-session-id']).toBe(sessionId);
    expect(listCall?.headers['mcp-protocol-version']).toBe('2025-11-25');

    await transport.terminateSession();
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });

    const after = await fetch(upstream.url, {
      method: 'POST',
      headers: { ...buildStatelessHeaders(), 'mcp-session-id': String(sessionId), 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(echoCall),
    });
    expect(after.status).toBe(404);
  });

  it('answers with one JSON body when jsonResponse is set', async () => {
    const upstream = await startUpstream({ jsonResponse: true });
    const { client } = await connectClient(upstream.url);
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'json' } }))).toBe('json');
  });
});

describe('demo upstream, service credential', () => {
  it('rejects a missing credential with 401 JSON and still records the request', async () => {
    const upstream = await startUpstream({ requiredCredential: { header: 'x-api-key', value: 'svc-key' } });

    const res = await fetch(upstream.url, { method: 'POST', headers: buildStatelessHeaders(), body: JSON.stringify(echoCall) });

    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]).toMatchObject({ method: 'POST', path: '/mcp', body: echoCall });
    expect(upstream.seen[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('rejects a wrong credential and accepts the right one', async () => {
    const upstream = await startUpstream({ requiredCredential: { header: 'authorization', value: 'Bearer svc' } });

    const wrong = await fetch(upstream.url, {
      method: 'POST', headers: buildStatelessHeaders({ authorization: 'Bearer user-token' }), body: JSON.stringify(echoCall),
    });
    expect(wrong.status).toBe(401);

    const { client } = await connectClient(upstream.url, { authorization: 'Bearer svc' });
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
  });
});

describe('demo upstream, 2026-07-28 stateless POST', () => {
  it('answers tools/call without initialize or session', async () => {
    const upstream = await startUpstream();

    const res = await fetch(upstream.url, { method: 'POST', headers: buildStatelessHeaders(), body: JSON.stringify(echoCall) });

    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const [message] = parseSseMessages(await res.text());
    expect(message).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'stateless hi' }] } });
  });

  it('answers with JSON when the client accepts only application/json', async () => {
    const upstream = await startUpstream();

    const res = await fetch(upstream.url, {
      method: 'POST', headers: buildStatelessHeaders({ accept: 'application/json' }), body: JSON.stringify(echoCall),
    });

    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ id: 7, result: { content: [{ text: 'stateless hi' }] } });
  });

  it('rejects Mcp-Name that does not match the body with -32020', async () => {
    const upstream = await startUpstream();

    const res = await fetch(upstream.url, {
      method: 'POST', headers: buildStatelessHeaders({ 'mcp-name': 'admin_delete_ticket' }), body: JSON.stringify(echoCall),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32020 } });
  });

  it('accepts a base64-encoded Mcp-Name', async () => {
    const upstream = await startUpstream();
    const encoded = `=?base64?${Buffer.from('echo').toString('base64')}?=`;

    const res = await fetch(upstream.url, {
      method: 'POST', headers: buildStatelessHeaders({ 'mcp-name': encoded }), body: JSON.stringify(echoCall),
    });

    expect(res.status).toBe(200);
  });
});
