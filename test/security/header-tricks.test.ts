/**
 * Header and framing tricks over raw sockets (fetch refuses to send most of
 * them): repeated Authorization (in every spelling, and hidden behind more
 * headers than node keeps by default), Transfer-Encoding with Content-Length
 * and other request-smuggling framings, Content-Length mismatches, obs-fold,
 * CR/LF/NUL in values, oversized headers, many headers, values the gateway might
 * echo. Every case: the right status, nothing smuggled to the upstream or
 * processed as a second request, no token in any output, still serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { expectChallenge, expectNoSecretIn, expectNoSecretInOutputs, expectStillServes, metadataUrl, rawExchange, sleep, statusLines } from './support.js';

const MAX_HEADER_BYTES = 16 * 1024;
let stack: Stack;
let port: number;
let token: string;
let otherToken: string;

beforeAll(async () => {
  stack = await startStack({
    config: (config) => ({ ...config, limits: { maxHeaderBytes: MAX_HEADER_BYTES, headersTimeoutMs: 1000, requestTimeoutMs: 2000 } }),
  });
  port = Number(new URL(stack.mcpUrl).port);
  token = await stack.obtainToken();
  otherToken = await stack.obtainToken('tickets:read tickets:write admin');
});
afterAll(async () => stack?.close());

const PING = '{"jsonrpc":"2.0","id":"raw","method":"ping"}';

/** A raw POST /mcp with the given header lines (no trailing CRLF) and body. */
function post(headerLines: string[], body = PING, { contentLength = true, close = true } = {}): string {
  const lines = [
    'POST /mcp HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    'Accept: application/json, text/event-stream',
    'MCP-Protocol-Version: 2026-07-28',
    'Mcp-Method: ping',
    ...(contentLength ? [`Content-Length: ${Buffer.byteLength(body)}`] : []),
    ...(close ? ['Connection: close'] : []),
    ...headerLines,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Sends, then checks the common invariants; returns the raw response. */
async function exchange(payload: string, secrets: string[] = [token, otherToken]): Promise<{ raw: string; statuses: string[]; upstreamDelta: number }> {
  const before = stack.upstream.seen.length;
  const raw = await rawExchange(port, payload);
  // Give a wrongly accepted second request time to arrive upstream before counting.
  await sleep(50);
  const upstreamDelta = stack.upstream.seen.length - before;
  expectNoSecretIn({ 'the raw response': raw }, secrets);
  expectNoSecretInOutputs(stack, secrets);
  return { raw, statuses: statusLines(raw), upstreamDelta };
}

function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split('\r\n\r\n')[0] ?? '';
  return head
    .split('\r\n')
    .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    ?.slice(name.length + 1)
    .trim();
}

describe('repeated Authorization headers', () => {
  it.each([
    ['valid then forged', () => [`Authorization: Bearer ${token}`, 'Authorization: Bearer forged.token.value']],
    ['forged then valid', () => ['Authorization: Bearer forged.token.value', `Authorization: Bearer ${token}`]],
    ['two valid tokens of different principals', () => [`Authorization: Bearer ${token}`, `Authorization: Bearer ${otherToken}`]],
    ['the same token twice', () => [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]],
    ['two spellings of the name', () => [`authorization: Bearer ${token}`, `AUTHORIZATION: Bearer ${otherToken}`]],
    ['Bearer and Basic', () => [`Authorization: Bearer ${token}`, 'Authorization: Basic dXNlcjpwYXNz']],
  ])('%s → 400 invalid_request, nothing forwarded', async (_name, headers) => {
    const { raw, statuses, upstreamDelta } = await exchange(post(headers()));
    expect(statuses).toEqual([expect.stringMatching(/^HTTP\/1\.1 400 /)]);
    expect(upstreamDelta).toBe(0);
    expect(headerOf(raw, 'www-authenticate')).toMatch(/^Bearer .*error="invalid_request"/);
    const records = stack.auditRecords().filter((record) => record.requestId === headerOf(raw, 'x-request-id'));
    expect(records).toEqual([expect.objectContaining({ event: 'authentication.failure', outcome: expect.objectContaining({ status: 400, reason: 'credentials_ambiguous' }) })]);
    await expectStillServes(stack, token);
  });

  it('a second Authorization hidden behind 2,100 other headers is still seen (node would keep only the first 2,000)', async () => {
    const junk = Array.from({ length: 2100 }, (_, index) => `${'abcdefghij'[index % 10]}:`);
    const payload = post([`Authorization: Bearer ${token}`, ...junk, `Authorization: Bearer ${otherToken}`]);
    expect(Buffer.byteLength(payload)).toBeLessThan(MAX_HEADER_BYTES);
    const { statuses, upstreamDelta } = await exchange(payload);
    expect(statuses).toEqual([expect.stringMatching(/^HTTP\/1\.1 400 /)]);
    expect(upstreamDelta).toBe(0);
    await expectStillServes(stack, token);
  });
});

describe('request smuggling and framing', () => {
  /** A complete, authorized second request hidden in the first one's body: it must never run. */
  const smuggled = () => {
    const body = '{"jsonrpc":"2.0","id":"smuggled","method":"tools/call","params":{"name":"echo","arguments":{"text":"SMUGGLED"}}}';
    return `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  };
  const head = (lines: string[]) => `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n${lines.join('\r\n')}\r\n\r\n`;

  it.each([
    ['Transfer-Encoding chunked with Content-Length (CL.TE)', () => head(['Content-Length: 6', 'Transfer-Encoding: chunked']) + `0\r\n\r\n${smuggled()}`],
    ['Content-Length with Transfer-Encoding chunked (TE.CL)', () => head(['Transfer-Encoding: chunked', 'Content-Length: 4']) + `0\r\n\r\n${smuggled()}`],
    ['two different Content-Length headers', () => head(['Content-Length: 0', `Content-Length: ${smuggled().length}`]) + smuggled()],
    ['a Content-Length list', () => head([`Content-Length: 0, ${smuggled().length}`]) + smuggled()],
    ['an obfuscated Transfer-Encoding (space before the colon)', () => head(['Transfer-Encoding : chunked', 'Content-Length: 0']) + `0\r\n\r\n${smuggled()}`],
    ['Transfer-Encoding: chunked, identity', () => head(['Transfer-Encoding: chunked, identity']) + `0\r\n\r\n${smuggled()}`],
    ['Transfer-Encoding: xchunked', () => head(['Transfer-Encoding: xchunked']) + `0\r\n\r\n${smuggled()}`],
    ['a chunk size that is not hex', () => head(['Transfer-Encoding: chunked']) + `zz\r\n${PING}\r\n0\r\n\r\n${smuggled()}`],
    ['a header folded onto the next line (obs-fold)', () => head(['X-Folded: a', ' Transfer-Encoding: chunked', 'Content-Length: 0']) + smuggled()],
    ['a bare LF ending a header line', () => head(['X-Bare: a\nTransfer-Encoding: chunked', 'Content-Length: 0']) + smuggled()],
  ])('%s → refused by the HTTP parser; the hidden request never runs', async (_name, payload) => {
    const { statuses, upstreamDelta } = await exchange(payload());
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstreamDelta).toBe(0);
    expect(stack.upstream.seen.some((request) => JSON.stringify(request.body ?? '').includes('SMUGGLED'))).toBe(false);
    await expectStillServes(stack, token);
  });

  it('a Content-Length longer than the body: the request waits, times out, and nothing is forwarded', async () => {
    const payload = post([`Authorization: Bearer ${token}`], PING, { contentLength: false, close: false }).replace('\r\n\r\n', `\r\nContent-Length: ${PING.length + 50}\r\n\r\n`);
    const before = stack.upstream.seen.length;
    const raw = await rawExchange(port, payload, { idleMs: 3000, maxMs: 4000 });
    expect(stack.upstream.seen.length).toBe(before);
    // requestTimeoutMs (2 s here) ends it with 408, or the socket is closed.
    if (raw) expect(statusLines(raw)[0]).toMatch(/^HTTP\/1\.1 408 /);
    await expectStillServes(stack, token);
  });

  it('a Content-Length shorter than the body: the rest is a separate request, authenticated on its own', async () => {
    const unauthenticatedTail = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${PING.length}\r\nConnection: close\r\n\r\n${PING}`;
    const { statuses, upstreamDelta } = await exchange(post([`Authorization: Bearer ${token}`], PING, { close: false }) + unauthenticatedTail);
    expect(statuses.map((line) => line.slice(9, 12))).toEqual(['200', '401']);
    // Only the first (authorized) request went upstream.
    expect(upstreamDelta).toBe(1);
  });
});

describe('values in headers', () => {
  it.each([
    ['a CR', 'X-Request-Id: abc\rSet-Cookie: injected=1'],
    ['a NUL', 'X-Request-Id: abc\u0000def'],
    ['a CR in Origin', 'Origin: https://evil.example\rSet-Cookie: injected=1'],
    ['a CR in the token', `Authorization: Bearer ${'a'.repeat(8)}\rSet-Cookie: injected=1`],
  ])('a value with %s is refused by the parser, nothing injected into the response', async (_name, line) => {
    const { raw, statuses, upstreamDelta } = await exchange(post([line]));
    expect(statuses).toEqual([expect.stringMatching(/^HTTP\/1\.1 400 /)]);
    expect(raw.toLowerCase()).not.toContain('set-cookie');
    expect(upstreamDelta).toBe(0);
  });

  it('client values are never echoed into the challenge or the response headers', async () => {
    const weirdId = 'id-with-"quotes"-and=equals,commas';
    const { raw } = await exchange(
      post([`X-Request-Id: ${weirdId}`, 'X-Forwarded-Host: evil.example', 'X-Forwarded-Proto: gopher', 'Forwarded: host=evil.example;proto=https'], PING).replace(
        `Host: 127.0.0.1:${port}`,
        'Host: evil.example',
      ),
    );
    expect(statusLines(raw)[0]).toMatch(/^HTTP\/1\.1 401 /);
    const head = raw.split('\r\n\r\n')[0]!;
    expect(head).not.toContain('evil.example');
    expect(head).not.toContain('gopher');
    expect(headerOf(raw, 'x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headerOf(raw, 'www-authenticate')).toContain(`resource_metadata="${metadataUrl(stack)}"`);
  });

  it('an absolute-form request target with another host does not change the resource in the challenge', async () => {
    const payload = post([]).replace('POST /mcp HTTP/1.1', 'POST http://evil.example/mcp HTTP/1.1');
    const { raw } = await exchange(payload);
    expect(statusLines(raw)[0]).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw).not.toContain('evil.example');
  });
});

describe('header size and count', () => {
  it.each([
    ['one header over the limit', () => ({ 'x-padding': 'x'.repeat(MAX_HEADER_BYTES) })],
    ['a valid token plus padding over the limit', () => ({ ...bearer(token), 'x-padding': 'x'.repeat(MAX_HEADER_BYTES) })],
    ['many headers adding up past the limit', () => Object.fromEntries(Array.from({ length: 400 }, (_, index) => [`x-h${index}`, 'v'.repeat(40)]))],
    ['a cookie over the limit', () => ({ cookie: `session=${'c'.repeat(MAX_HEADER_BYTES)}` })],
  ])('%s → 431 before any gateway code, nothing forwarded', async (_name, headers) => {
    const before = stack.upstream.seen.length;
    const auditBefore = stack.auditRecords().length;
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, headers());
    expect(response.status).toBe(431);
    await response.text();
    expect(stack.upstream.seen.length).toBe(before);
    expect(stack.auditRecords().length).toBe(auditBefore);
    expectNoSecretInOutputs(stack, [token]);
    await expectStillServes(stack, token);
  });

  it('many small headers under the size limit are fine (the request is decided normally)', async () => {
    const headers = Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`x-h${index}`, 'v']));
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, headers);
    expect(response.status).toBe(401);
    expectChallenge(stack, response, undefined);
    await response.text();
  });
});
