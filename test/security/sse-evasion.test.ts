/**
 * List-filter evasion through a real gateway: a hostile upstream answers
 * tools/list with crafted bodies (interleaved events, 1-byte chunks, CRLF and
 * CR, comments inside events, events without data, non-JSON events carrying a
 * catalog, a giant event, a changed id, a batch, a second list, gzip, escaped
 * names, error statuses…). Whatever it does, the bytes the client receives
 * never name a tool the caller may not call; the audit trail records the call;
 * the gateway keeps serving.
 */
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startHostileUpstream, writeSlowly, type HostileUpstream } from './fixtures/hostile-upstream.js';
import { auditRecordsFor, expectNoSecretInOutputs, statelessHeaders } from './support.js';

/** May be called by a tickets:read token under the example policy. */
const ALLOWED = ['list_tickets', 'echo'];
/** May not: a missing scope, a claim condition, and no rule at all. */
const DENIED = ['create_ticket', 'admin_purge_all', 'zz_unreviewed_tool'];

const policies = copyPolicies();
let stack: Stack;
let hostile: HostileUpstream;
let token: string;

beforeAll(async () => {
  hostile = await startHostileUpstream();
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({ ...config, upstream: { ...config.upstream, url: hostile.url } }),
  });
  token = await stack.obtainToken('tickets:read');
});
afterAll(async () => {
  await stack?.close();
  await hostile?.close();
  policies.remove();
});

const tool = (name: string) => ({ name, description: `Does ${name.replace(/_/g, ' ')}`, inputSchema: { type: 'object', properties: {} } });
const catalog = () => [...ALLOWED, ...DENIED].map(tool);
const listResult = (id: unknown, tools: unknown = catalog()) => ({ jsonrpc: '2.0', id, result: { tools } });
const progress = (n: number) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: n } });
const event = (value: unknown, eol = '\n') => `event: message${eol}data: ${typeof value === 'string' ? value : JSON.stringify(value)}${eol}${eol}`;

function openSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  res.flushHeaders();
}

async function readAll(response: Response): Promise<{ text: string; cut: boolean }> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
      chunks.push(value);
    }
  } catch {
    return { text: Buffer.concat(chunks).toString('utf8'), cut: true };
  }
}

interface Scenario {
  name: string;
  answer: (res: ServerResponse, id: unknown) => void | Promise<void>;
  /** The allowed tools reach the client (false when the body is replaced or the stream cut). */
  listsAllowed: boolean;
  /** The client sees a stream cut short (a giant event, an upstream reset). */
  cut?: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'notifications interleaved before, between and after list events',
    answer: (res, id) => {
      openSse(res);
      res.end(event(progress(1)) + event(listResult(id)) + event(progress(2)) + event({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'ok' } }));
    },
    listsAllowed: true,
  },
  {
    name: 'the list event in 1-byte chunks',
    answer: async (res, id) => {
      openSse(res);
      await writeSlowly(res, [...Buffer.from(event(listResult(id)))].map((byte) => Buffer.from([byte])), 0);
    },
    listsAllowed: true,
  },
  { name: 'CRLF line endings', answer: (res, id) => (openSse(res), res.end(event(listResult(id), '\r\n'))), listsAllowed: true },
  { name: 'CR line endings', answer: (res, id) => (openSse(res), res.end(event(listResult(id), '\r'))), listsAllowed: true },
  {
    name: 'CRLF pairs split across chunks',
    answer: async (res, id) => {
      openSse(res);
      const text = event(listResult(id), '\r\n');
      const parts = text.split('\r\n').flatMap((line, index, all) => (index < all.length - 1 ? [`${line}\r`, '\n'] : [line]));
      await writeSlowly(res, parts.filter(Boolean));
    },
    listsAllowed: true,
  },
  {
    name: 'comments between the data lines of the list event',
    answer: (res, id) => {
      openSse(res);
      const json = JSON.stringify(listResult(id), null, 1).split('\n');
      res.end(`event: message\n${json.map((line, index) => `data: ${line}\n${index % 3 === 0 ? `: keep-alive ${index}\n` : ''}`).join('')}\n`);
    },
    listsAllowed: true,
  },
  {
    name: 'events without data around the list (id, event, retry, unknown fields)',
    answer: (res, id) => {
      openSse(res);
      res.end(`id: 1\n\nevent: tools\n\nretry: 10\n\ncatalog: ${DENIED.join(',')}\n\n${event(listResult(id))}id: 2\n\n`);
    },
    listsAllowed: true,
  },
  {
    name: 'a non-JSON event carrying the catalog',
    answer: (res, id) => {
      openSse(res);
      res.end(event(`${JSON.stringify(listResult(id)).slice(0, -1)},`) + event(`tools: ${DENIED.join(' ')}`) + event(progress(3)));
    },
    listsAllowed: false,
  },
  {
    name: 'a giant list event beyond the 16 MiB filter limit',
    answer: async (res, id) => {
      openSse(res);
      const giant = JSON.stringify(listResult(id, [...catalog(), { name: 'padding', description: 'x'.repeat(17 * 1024 * 1024) }]));
      await writeSlowly(res, [`event: message\ndata: ${giant.slice(0, 1 << 20)}`, ...Array.from({ length: 17 }, (_, i) => giant.slice((i + 1) << 20, (i + 2) << 20)), '\n\n']);
    },
    listsAllowed: false,
    cut: true,
  },
  {
    name: 'SSE id fields on the list event and changed between events (event: tools, id: replay)',
    answer: (res, id) => (openSse(res), res.end(`id: 1\nevent: tools\n${event(listResult(id)).replace('event: message\n', '')}id: replay-${String(id)}\n${event(listResult(id))}`)),
    listsAllowed: true,
  },
  { name: 'the response id changed to a string', answer: (res, id) => (openSse(res), res.end(event(listResult(String(id))))), listsAllowed: true },
  { name: 'the response id changed to another number', answer: (res, id) => (openSse(res), res.end(event(listResult(Number(id) + 1000)))), listsAllowed: true },
  { name: 'the list inside a batch array', answer: (res, id) => (openSse(res), res.end(event([progress(4), listResult(id), listResult('other')]))), listsAllowed: true },
  { name: 'a second list event with another id', answer: (res, id) => (openSse(res), res.end(event(listResult(id)) + event(listResult('replayed-42')))), listsAllowed: true },
  { name: 'a gzip-encoded SSE body', answer: (res, id) => (res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }), res.end(gzipSync(event(listResult(id))))), listsAllowed: false },
  { name: 'a gzip-encoded JSON body', answer: (res, id) => (res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), res.end(gzipSync(JSON.stringify(listResult(id))))), listsAllowed: false },
  { name: 'a JSON body declared as text/plain', answer: (res, id) => (res.writeHead(200, { 'content-type': 'text/plain' }), res.end(JSON.stringify(listResult(id)))), listsAllowed: false },
  { name: 'SSE bytes declared as application/json', answer: (res, id) => (res.writeHead(200, { 'content-type': 'application/json' }), res.end(event(listResult(id)))), listsAllowed: false },
  { name: 'an upper-case content type', answer: (res, id) => (res.writeHead(200, { 'content-type': 'TEXT/EVENT-STREAM; charset=UTF-8' }), res.end(event(listResult(id)))), listsAllowed: true },
  {
    name: 'duplicate name members ({"name":"create_ticket","name":"echo"})',
    answer: (res, id) => {
      openSse(res);
      const items = DENIED.map((name) => `{"name":"${name}","name":"echo"}`).join(',');
      res.end(`data: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[${items},{"name":"list_tickets"}]}}\n\n`);
    },
    listsAllowed: true,
  },
  {
    name: 'denied names spelled with JSON escapes',
    answer: (res, id) => {
      openSse(res);
      const items = DENIED.map((name) => `{"name":"${[...name].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`).join(',');
      res.end(`data: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"tools":[${items},{"name":"echo"},{"name":"list_tickets"}]}}\n\n`);
    },
    listsAllowed: true,
  },
  {
    name: 'names that are not strings (a list, an object) holding denied names',
    answer: (res, id) => (openSse(res), res.end(event(listResult(id, [...ALLOWED.map(tool), { name: [DENIED[0]] }, { name: { value: DENIED[1] } }, { title: DENIED[2] }])))),
    listsAllowed: true,
  },
  { name: 'tools as an object keyed by name instead of a list', answer: (res, id) => (openSse(res), res.end(event({ jsonrpc: '2.0', id, result: { tools: Object.fromEntries(DENIED.map((name) => [name, tool(name)])) } }))), listsAllowed: false },
  { name: 'the stream ends inside the list event', answer: (res, id) => (openSse(res), res.end(`${event(progress(5))}data: ${JSON.stringify(listResult(id))}`)), listsAllowed: false },
  { name: 'a list result with HTTP 500', answer: (res, id) => (res.writeHead(500, { 'content-type': 'application/json' }), res.end(JSON.stringify(listResult(id)))), listsAllowed: true },
  { name: 'a list result over SSE with HTTP 400', answer: (res, id) => (res.writeHead(400, { 'content-type': 'text/event-stream' }), res.end(event(listResult(id)))), listsAllowed: true },
  { name: 'a list result in an HTML error page with HTTP 502', answer: (res, id) => (res.writeHead(502, { 'content-type': 'text/html' }), res.end(`<pre>${JSON.stringify(listResult(id))}</pre>`)), listsAllowed: false },
  { name: 'a list result with HTTP 300', answer: (res, id) => (res.writeHead(300, { 'content-type': 'application/json' }), res.end(JSON.stringify(listResult(id)))), listsAllowed: true },
];

describe('list-filter evasion by a hostile upstream, through a real gateway', () => {
  it.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s → no denied tool reaches the client', async (_name, scenario) => {
    hostile.handler = (_request, res, message) => scenario.answer(res, message?.id);
    const response = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 11, method: 'tools/list' }, { ...bearer(token), ...statelessHeaders('tools/list') });
    const { text, cut } = await readAll(response);
    const everything = `${JSON.stringify([...response.headers])}\n${text}`;
    for (const name of DENIED) expect(everything, `${name} reached the client`).not.toContain(name);
    if (scenario.listsAllowed) for (const name of ALLOWED) expect(text).toContain(name);
    if (scenario.cut !== undefined) expect(cut).toBe(scenario.cut);
    // Recorded, and no token anywhere.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(auditRecordsFor(stack, response)[0]).toMatchObject({ event: 'mcp.message', what: { method: 'tools/list' }, decision: { effect: 'allow' } });
    expectNoSecretInOutputs(stack, [token]);

    // Still serving.
    hostile.handler = undefined;
    const ping = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 12, method: 'ping' }, { ...bearer(token), ...statelessHeaders('ping') });
    expect(ping.status).toBe(200);
    await ping.text();
  });

  it('a GET stream replaying a list response (a resumed stream) is filtered by shape', async () => {
    hostile.handler = (_request, res) => {
      openSse(res);
      res.end(`id: 5\n${event(listResult('from-an-earlier-request'))}`);
    };
    const response = await fetch(stack.mcpUrl, { headers: { ...bearer(token), accept: 'text/event-stream', 'last-event-id': '4' } });
    const { text } = await readAll(response);
    expect(response.status).toBe(200);
    for (const name of DENIED) expect(text).not.toContain(name);
    for (const name of ALLOWED) expect(text).toContain(name);
    hostile.handler = undefined;
  });
});
