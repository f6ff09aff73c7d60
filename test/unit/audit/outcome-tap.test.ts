import { describe, expect, it } from 'vitest';
import { createOutcomeTap, JsonOutcomeScanner, type ResponseOutcome } from '../../../src/audit/index.js';

function scan(text: string, chunkSize = 7): Array<[unknown, ResponseOutcome]> {
  const found: Array<[unknown, ResponseOutcome]> = [];
  const scanner = new JsonOutcomeScanner((id, outcome) => found.push([id, outcome]));
  for (let i = 0; i < text.length; i += chunkSize) scanner.write(text.slice(i, i + chunkSize));
  return found;
}

describe('JsonOutcomeScanner', () => {
  it('reads success, tool errors and JSON-RPC errors, with ids of every type', () => {
    expect(scan('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}')).toEqual([[1, { result: 'success' }]]);
    expect(scan('{"result":{"isError":true,"content":[]},"id":"x\\"y","jsonrpc":"2.0"}')).toEqual([['x"y', { result: 'tool_error' }]]);
    expect(scan('{"jsonrpc":"2.0","id":null,"error":{"message":"m","code":-32700}}')).toEqual([[null, { result: 'jsonrpc_error', errorCode: -32700 }]]);
  });

  it('is not fooled by look-alikes in strings or deeper objects', () => {
    const text = JSON.stringify({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '"isError":true "error":{"code":1}' }], structuredContent: { isError: true, error: { code: 5 } } } });
    expect(scan(text, 3)).toEqual([[2, { result: 'success' }]]);
  });

  it('reads every element of a batch, in any chunking', () => {
    const text = JSON.stringify([{ jsonrpc: '2.0', id: 1, result: {} }, { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'x' } }]);
    for (const size of [1, 2, 5, 1000]) expect(scan(text, size)).toEqual([[1, { result: 'success' }], [2, { result: 'jsonrpc_error', errorCode: -32601 }]]);
  });

  it('ignores requests and notifications', () => {
    expect(scan('{"jsonrpc":"2.0","method":"notifications/progress","params":{"error":{"code":1}}}')).toEqual([]);
  });
});

describe('outcome tap', () => {
  it('reads SSE outcomes from chunks split anywhere (CRLF, CR, LF, multi-line data)', () => {
    const text = 'event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\r\n\r\n:ping\rdata: {"jsonrpc":"2.0","id":3,\ndata: "result":{"isError":true}}\n\ndata:{"jsonrpc":"2.0","id":4,"error":{"code":-32000}}\n\n';
    for (const size of [1, 4, 7, text.length]) {
      const found: unknown[] = [];
      const tap = createOutcomeTap('text/event-stream; charset=utf-8', (id, outcome) => found.push([id, outcome]))!;
      for (let i = 0; i < text.length; i += size) tap.write(Buffer.from(text.slice(i, i + size)));
      expect(found).toEqual([[3, { result: 'tool_error' }], [4, { result: 'jsonrpc_error', errorCode: -32000 }]]);
    }
  });

  it('reads a JSON outcome whose UTF-8 characters are split across chunks', () => {
    const found: unknown[] = [];
    const tap = createOutcomeTap('application/json', (id, outcome) => found.push([id, outcome]))!;
    const bytes = Buffer.from('{"jsonrpc":"2.0","id":"é€","result":{"isError":true}}');
    for (let i = 0; i < bytes.length; i += 1) tap.write(bytes.subarray(i, i + 1));
    expect(found).toEqual([['é€', { result: 'tool_error' }]]);
  });

  it('reads outcomes whose UTF-8 characters are split across chunks after whole ones, JSON and SSE, in any chunking', () => {
    const json = Buffer.from('{"jsonrpc":"2.0","id":"a-€-ü","result":{"isError":true}}');
    const sse = Buffer.from(`data: {"jsonrpc":"2.0","id":"ü","result":{}}\n\ndata: ${json.toString()}\n\n`);
    for (const size of [1, 2, 3, 5, 29, 30, 31, 1000]) {
      const found: unknown[] = [];
      const jsonTap = createOutcomeTap('application/json', (id, outcome) => found.push([id, outcome]))!;
      for (let i = 0; i < json.length; i += size) jsonTap.write(json.subarray(i, i + size));
      const sseTap = createOutcomeTap('text/event-stream', (id, outcome) => found.push([id, outcome]))!;
      for (let i = 0; i < sse.length; i += size) sseTap.write(sse.subarray(i, i + size));
      expect(found).toEqual([['a-€-ü', { result: 'tool_error' }], ['ü', { result: 'success' }], ['a-€-ü', { result: 'tool_error' }]]);
    }
  });

  it('does not tap other content types', () => {
    expect(createOutcomeTap('text/html', () => undefined)).toBeUndefined();
  });
});
