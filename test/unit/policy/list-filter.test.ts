/**
 * List filtering on SSE and JSON bodies: the top source of catalog leaks in
 * other gateways. Everything a tools/list response carries must be filtered or
 * dropped, never passed through; unrelated events must not be held back.
 */
import { once } from 'node:events';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createListFilter, idKey, parsePolicyFiles, type ListMethod, type ListResponseSelector } from '../../../src/policy/index.js';

const policy = parsePolicyFiles([
  { file: 'p.yaml', text: 'tools:\n  - name: "public_*"\n    scopes: []\n  - name: secret\n    scopes: [admin]\n' },
]).policy;
const caller = { scopes: new Set<string>(), claims: {} };
const byId: ListResponseSelector = { byId: new Map<string, ListMethod>([[idKey(1), 'tools/list']]) };

const TOOLS = [{ name: 'public_a' }, { name: 'secret' }, { name: 'public_b' }];
const listResponse = (id: unknown = 1, tools: unknown[] = TOOLS) => JSON.stringify({ jsonrpc: '2.0', id, result: { tools, nextCursor: 'page-2' } });
const progress = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });

function sseFilter(selector: ListResponseSelector = byId, drops: string[] = [], maxBytes = 1 << 20): { filter: Transform; headers: Record<string, string | string[]> } {
  const headers: Record<string, string | string[]> = { 'content-type': 'text/event-stream', 'content-length': '123' };
  const filter = createListFilter(200, headers, { policy, caller, selector, maxBytes, onDrop: (reason) => drops.push(reason) })!;
  return { filter, headers };
}

/** Feeds chunks one by one, collecting what comes out after each. */
async function run(filter: Transform, chunks: Array<string | Buffer>): Promise<{ outputs: string[]; all: string; error?: Error }> {
  const outputs: string[] = [];
  let current = '';
  filter.on('data', (data: Buffer) => (current += data.toString()));
  let error: Error | undefined;
  filter.on('error', (failure) => (error = failure));
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => filter.write(chunk, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    outputs.push(current);
  }
  filter.end();
  if (!error) await once(filter, 'end').catch(() => undefined);
  return { outputs, all: current, ...(error ? { error } : {}) };
}

function dataEvents(text: string): unknown[] {
  return text
    .split(/\n\n/)
    .map((block) => block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n'))
    .filter(Boolean)
    .map((data) => JSON.parse(data) as unknown);
}

const names = (message: unknown) => (message as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);

describe('SSE list filtering', () => {
  it('filters the list event, keeps nextCursor and drops Content-Length', async () => {
    const { filter, headers } = sseFilter();
    const { all } = await run(filter, [`event: message\ndata: ${listResponse()}\n\n`]);
    const [message] = dataEvents(all);
    expect(names(message)).toEqual(['public_a', 'public_b']);
    expect((message as { result: { nextCursor: string } }).result.nextCursor).toBe('page-2');
    expect(all).toContain('event: message\n');
    expect(headers['content-length']).toBeUndefined();
  });

  it('passes interleaved notifications at once, without waiting for the list event', async () => {
    const { filter } = sseFilter();
    const listEvent = `data: ${listResponse()}\n\n`;
    const { outputs, all } = await run(filter, [`data: ${progress}\n\n: keep-alive\n`, listEvent.slice(0, 20), listEvent.slice(20), `data: ${progress}\n\n`]);
    expect(outputs[0]).toContain('notifications/progress');
    expect(outputs[0]).toContain(': keep-alive');
    // Half a list event: nothing more comes out until it is complete.
    expect(outputs[1]).toBe(outputs[0]);
    const messages = dataEvents(all);
    expect(messages).toHaveLength(3);
    expect(names(messages[1])).toEqual(['public_a', 'public_b']);
  });

  it('filters a large list split across many small chunks', async () => {
    const tools = Array.from({ length: 3000 }, (_, i) => ({ name: i % 3 === 0 ? `secret` : `public_${i}`, description: 'x'.repeat(50) }));
    const event = `data: ${listResponse(1, tools)}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < event.length; i += 97) chunks.push(event.slice(i, i + 97));
    const { filter } = sseFilter();
    const { all } = await run(filter, chunks);
    const listed = names(dataEvents(all)[0]);
    expect(listed).toHaveLength(2000);
    expect(listed).not.toContain('secret');
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
    ['LF', '\n'],
  ])('understands %s line endings, even split between chunks', async (_name, eol) => {
    const text = `event: message${eol}id: 5${eol}data: ${listResponse()}${eol}${eol}data: ${progress}${eol}${eol}`;
    const splitAt = text.indexOf(eol) + 1; // inside a CRLF pair when eol is CRLF
    const { filter } = sseFilter();
    const { all } = await run(filter, [text.slice(0, splitAt), text.slice(splitAt)]);
    const messages = dataEvents(all);
    expect(names(messages[0])).toEqual(['public_a', 'public_b']);
    expect(all).toContain('id: 5\n');
    expect(all).not.toContain('secret');
    expect(messages).toHaveLength(2);
  });

  it('never passes an event it cannot parse: an undecodable list event is dropped', async () => {
    const drops: string[] = [];
    const { filter } = sseFilter(byId, drops);
    const broken = listResponse().replace('{"jsonrpc"', '{jsonrpc');
    const { all } = await run(filter, [`data: ${broken}\n\n`, `data: ${progress}\n\n`]);
    expect(all).not.toContain('secret');
    expect(all).toContain('notifications/progress');
    expect(drops).toContain('SSE event data is not JSON');
  });

  it('filters a list split over several data lines of one event', async () => {
    const json = JSON.stringify(JSON.parse(listResponse()), null, 2);
    const event = `${json.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;
    const { filter } = sseFilter();
    const { all } = await run(filter, [event]);
    expect(all).not.toContain('secret');
    expect(names(dataEvents(all)[0])).toEqual(['public_a', 'public_b']);
  });

  it('filters list-shaped responses whatever their id (an upstream that changed the id type)', async () => {
    const { filter } = sseFilter();
    const { all } = await run(filter, [`data: ${listResponse('1')}\n\n`]);
    expect(all).not.toContain('secret');
  });

  it('filters every list in a batch response', async () => {
    const { filter } = sseFilter({ byShape: true });
    const batch = `[${listResponse(1)},${listResponse(2)}]`;
    const { all } = await run(filter, [`data: ${batch}\n\n`]);
    expect(all).not.toContain('secret');
  });

  it('passes comments and events without data, and drops a stream that ends inside an event', async () => {
    const drops: string[] = [];
    const { filter } = sseFilter(byId, drops);
    const { all } = await run(filter, [': hello\n\n', 'id: 9\n\n', `data: ${listResponse()}`]);
    expect(all).toContain(': hello');
    expect(all).toContain('id: 9');
    expect(all).not.toContain('secret');
    expect(drops).toContain('stream ended inside an SSE event');
  });

  it('passes a priming event (id, retry, empty data) unchanged, so the stream stays resumable', async () => {
    const drops: string[] = [];
    const { filter } = sseFilter(byId, drops);
    const { all } = await run(filter, ['id: s1_1\nretry: 500\ndata: \n\n', `id: s1_2\ndata: ${listResponse()}\n\n`]);
    expect(all.startsWith('id: s1_1\nretry: 500\ndata: \n\n')).toBe(true);
    expect(names(dataEvents(all)[0])).toEqual(['public_a', 'public_b']);
    expect(drops).toEqual([]);
  });

  it('fails the stream on a giant event instead of buffering it', async () => {
    const { filter } = sseFilter(byId, [], 4096);
    const { error, all } = await run(filter, [`data: ${'x'.repeat(5000)}`]);
    expect(error?.message).toMatch(/size limit/);
    expect(all).toBe('');
  });

  it('strips a BOM at the start of the stream', async () => {
    const { filter } = sseFilter();
    const { all } = await run(filter, [`\uFEFFdata: ${listResponse()}\n\n`]);
    expect(names(dataEvents(all)[0])).toEqual(['public_a', 'public_b']);
  });
});

describe('JSON list filtering', () => {
  function jsonFilter(headers: Record<string, string | string[]> = { 'content-type': 'application/json' }, drops: string[] = [], status = 200) {
    return createListFilter(status, headers, { policy, caller, selector: byId, maxBytes: 1 << 20, onDrop: (reason) => drops.push(reason) });
  }

  it('filters a JSON body', async () => {
    const { all } = await run(jsonFilter()!, [listResponse().slice(0, 10), listResponse().slice(10)]);
    expect(names(JSON.parse(all))).toEqual(['public_a', 'public_b']);
  });

  it('replaces an unparseable JSON body with a JSON-RPC error for the list request', async () => {
    const drops: string[] = [];
    const { all } = await run(jsonFilter(undefined, drops)!, ['{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret"']);
    expect(JSON.parse(all)).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32603 } });
    expect(all).not.toContain('secret');
    expect(drops).toHaveLength(1);
  });

  it.each([
    ['a compressed body', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ['another content type', { 'content-type': 'text/plain' }],
  ])('fails closed on %s', async (_name, headers) => {
    const mutable: Record<string, string | string[]> = { ...headers };
    const { all } = await run(jsonFilter(mutable)!, [listResponse()]);
    expect(all).not.toContain('secret');
    expect(JSON.parse(all)).toMatchObject({ error: { code: -32603 } });
    expect(mutable['content-type']).toBe('application/json');
    expect(mutable['content-encoding']).toBeUndefined();
  });

  it('leaves bodyless statuses alone (202, 204, 304)', () => {
    expect(jsonFilter(undefined, [], 202)).toBeUndefined();
    expect(jsonFilter(undefined, [], 204)).toBeUndefined();
    expect(jsonFilter(undefined, [], 304)).toBeUndefined();
  });

  it.each([300, 400, 404, 500, 502])('filters a list result sent with HTTP %i (an error status can carry one too)', async (status) => {
    const { all } = await run(jsonFilter(undefined, [], status)!, [listResponse()]);
    expect(names(JSON.parse(all))).toEqual(['public_a', 'public_b']);
  });

  it('replaces a non-JSON error body of a list request (an HTML page may quote anything)', async () => {
    const headers: Record<string, string | string[]> = { 'content-type': 'text/html' };
    const { all } = await run(jsonFilter(headers, [], 502)!, [`<pre>${listResponse()}</pre>`]);
    expect(all).not.toContain('secret');
    expect(JSON.parse(all)).toMatchObject({ error: { code: -32603 } });
  });
});
