/**
 * Property-based fuzzing of the SSE list filter: random streams of list
 * responses (single, batched, with changed ids, split over several data lines),
 * notifications, comments, events without data, garbage events and a cut-off
 * last event; random line endings per line (LF, CRLF, CR), an optional BOM, and
 * random chunk boundaries (inside CRLF pairs and multi-byte characters). The
 * output is read the way the official SDK client reads it (eventsource-parser,
 * the SDK's own dependency), independently of the gateway's parser.
 *
 * Properties: no denied tool name anywhere in the output bytes; every JSON
 * event comes out, in order, with exactly the allowed items; nothing else does.
 */
import { once } from 'node:events';
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createListFilter, idKey, parsePolicyFiles, type ListMethod } from '../../src/policy/index.js';

const policy = parsePolicyFiles([
  {
    file: 'p.yaml',
    text: [
      'tools:',
      '  - name: "open_*"',
      '    scopes: []',
      '  - name: hidden_admin',
      '    scopes: [admin]',
      '  - name: hidden_denied',
      '    deny: true',
      '  - name: hidden_claim',
      '    scopes: [s1]',
      '    when: { groups: { contains: ops } }',
      '',
    ].join('\n'),
  },
]).policy;
const caller = { scopes: new Set(['s1']), claims: { groups: ['dev'] } };
const ALLOWED = ['open_a', 'open_b', 'open_ü€😀'];
/** Denied by scope, by an explicit deny, by a claim condition, and by no rule at all. */
const DENIED = ['hidden_admin', 'hidden_denied', 'hidden_claim', 'hidden_unmatched'];
const LIST_REQUEST_ID = 1;

type Wire = { kind: 'json'; value: unknown; expected: unknown; multiline: boolean; event?: string; id?: string } | { kind: 'comment'; text: string } | { kind: 'nodata'; lines: readonly string[] } | { kind: 'garbage'; data: string };

const tool = (name: string) => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' } });
const allowedOnly = (tools: Array<{ name: string }>) => tools.filter((item) => ALLOWED.includes(item.name));

const toolList = fc.shuffledSubarray([...ALLOWED, ...DENIED]).map((names) => names.map(tool));
const listId = fc.constantFrom<unknown>(LIST_REQUEST_ID, String(LIST_REQUEST_ID), 2, 'other', null);
const listResponse = fc.record({ id: listId, tools: toolList, cursor: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }) }).map(({ id, tools, cursor }) => {
  const make = (list: unknown[]) => ({ jsonrpc: '2.0', id, result: { tools: list, ...(cursor !== undefined ? { nextCursor: cursor } : {}) } });
  return { value: make(tools), expected: make(allowedOnly(tools)) };
});
const batch = fc.array(listResponse, { minLength: 1, maxLength: 3 }).map((items) => ({ value: items.map((item) => item.value), expected: items.map((item) => item.expected) }));
const notification = fc.nat(1000).map((progress) => {
  const value = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress, message: 'ü€😀 working' } };
  return { value, expected: value };
});
const wireItem: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ payload: fc.oneof(listResponse, batch, notification), multiline: fc.boolean(), event: fc.option(fc.constantFrom('message', 'tools'), { nil: undefined }), id: fc.option(fc.constantFrom('7', 'evt-1', 'a:b'), { nil: undefined }) }).map(({ payload, multiline, event, id }) => ({ kind: 'json' as const, value: payload.value, expected: payload.expected, multiline, ...(event ? { event } : {}), ...(id ? { id } : {}) })) },
  { weight: 1, arbitrary: fc.constantFrom(' keep-alive', '', 'a comment: with a colon').map((text) => ({ kind: 'comment' as const, text })) },
  { weight: 1, arbitrary: fc.constantFrom(['event: ping'], ['id: 42'], ['retry: 1000'], ['event: message', 'id: 9'], ['unknown-field: x']).map((lines) => ({ kind: 'nodata' as const, lines })) },
  {
    weight: 1,
    // Events a JSON parser refuses, some carrying a catalog with denied names.
    arbitrary: fc.constantFrom(
      `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"hidden_admin"}`,
      `not json: hidden_denied hidden_claim`,
      `{'jsonrpc':'2.0','id':1,'result':{'tools':[{'name':'hidden_unmatched'}]}}`,
      `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"hidden_admin"}]}} trailing`,
    ).map((data) => ({ kind: 'garbage' as const, data })),
  },
);

/** The lines of one item (without terminators); a blank line ends every event. */
function linesOf(item: Wire): string[] {
  switch (item.kind) {
    case 'comment':
      return [`:${item.text}`];
    case 'nodata':
      return [...item.lines, ''];
    case 'garbage':
      return [`data: ${item.data}`, ''];
    case 'json': {
      const text = item.multiline ? JSON.stringify(item.value, null, 1) : JSON.stringify(item.value);
      return [...(item.event ? [`event: ${item.event}`] : []), ...(item.id ? [`id: ${item.id}`] : []), ...text.split('\n').map((line) => `data: ${line}`), ''];
    }
  }
}

/** Joins lines with the chosen terminators; a CR is never followed by an LF that should end a separate line. */
function serialize(lines: string[], endings: string[]): string {
  let text = '';
  lines.forEach((line, index) => {
    let ending = endings[index % endings.length]!;
    if (line === '' && ending === '\n' && text.endsWith('\r')) ending = '\r\n';
    text += line + ending;
  });
  return text;
}

/** Cuts bytes at the given fractions: chunk edges fall anywhere, inside CRLF and inside UTF-8 sequences. */
function cut(bytes: Buffer, fractions: number[]): Buffer[] {
  const points = [...new Set(fractions.map((fraction) => Math.floor(fraction * bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}

async function runFilter(chunks: Buffer[]): Promise<{ output: Buffer; drops: string[] }> {
  const drops: string[] = [];
  const headers: Record<string, string | string[]> = { 'content-type': 'text/event-stream' };
  const filter = createListFilter(200, headers, {
    policy,
    caller,
    selector: { byId: new Map<string, ListMethod>([[idKey(LIST_REQUEST_ID), 'tools/list']]) },
    maxBytes: 1 << 20,
    onDrop: (reason) => drops.push(reason),
  })!;
  const out: Buffer[] = [];
  filter.on('data', (chunk: Buffer) => out.push(Buffer.from(chunk)));
  for (const chunk of chunks) filter.write(chunk);
  filter.end();
  await once(filter, 'end');
  return { output: Buffer.concat(out), drops };
}

/** The data of each event, as the SDK client's SSE parser dispatches them. */
function clientEvents(output: Buffer): string[] {
  const events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  parser.feed(new TextDecoder().decode(output));
  return events;
}

describe('SSE list filter (fast-check)', () => {
  it('never emits a denied tool, and emits every JSON event in order with exactly its allowed items', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(wireItem, { minLength: 1, maxLength: 10 }),
        fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.option(fc.constantFrom(`data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"hidden_admin"}]}}`, 'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}'), { nil: undefined }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        async (items, endings, bom, cutOff, fractions) => {
          const lines = items.flatMap(linesOf);
          // A last event that never ends: the stream stops inside it, so it must not come out.
          const text = (bom ? '\uFEFF' : '') + serialize(lines, endings) + (cutOff ?? '');
          const { output, drops } = await runFilter(cut(Buffer.from(text), fractions));

          const raw = output.toString('utf8');
          for (const name of DENIED) expect(raw, `${name} leaked`).not.toContain(name);
          const expected = items.filter((item) => item.kind === 'json').map((item) => (item as { expected: unknown }).expected);
          expect(clientEvents(output).map((data) => JSON.parse(data) as unknown)).toEqual(expected);
          if (items.some((item) => item.kind === 'garbage')) expect(drops).toContain('SSE event data is not JSON');
          // Comments pass through (keep-alives must reach the client).
          for (const item of items) if (item.kind === 'comment' && item.text) expect(raw).toContain(`:${item.text}`);
        },
      ),
      { numRuns: 250 },
    );
  });

  it('fails the stream (never passes it) when one event outgrows the limit, wherever the chunks break', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 5000, max: 20_000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), async (size, fractions) => {
        const giant = `data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"hidden_admin","description":"${'x'.repeat(size)}"}]}}\n\n`;
        const headers: Record<string, string | string[]> = { 'content-type': 'text/event-stream' };
        const filter = createListFilter(200, headers, { policy, caller, selector: { byShape: true }, maxBytes: 4096 })!;
        let output = '';
        filter.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const failed = new Promise<Error>((resolve) => filter.on('error', resolve));
        for (const chunk of cut(Buffer.from(giant), fractions)) filter.write(chunk);
        filter.end();
        expect((await failed).message).toMatch(/size limit/);
        expect(output).not.toContain('hidden_admin');
      }),
      { numRuns: 40 },
    );
  });
});
