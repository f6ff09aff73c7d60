import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.js';
import { buildJsonRpcError, idForErrorReply, parseJsonRpcBody } from '../../../src/jsonrpc/index.js';

function code(body: string): string {
  try {
    parseJsonRpcBody(body);
  } catch (error) {
    return (error as GatewayError).code;
  }
  return 'ok';
}

describe('parseJsonRpcBody', () => {
  it('reads requests, notifications and responses', () => {
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}')).toEqual({
      batch: false,
      messages: [{ kind: 'request', id: 1, method: 'tools/call', params: { name: 'x' } }],
      value: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } },
    });
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","method":"notifications/initialized"}').messages[0]).toMatchObject({ kind: 'notification' });
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","id":"a","result":{}}').messages[0]).toEqual({ kind: 'response', id: 'a' });
    expect(parseJsonRpcBody(Buffer.from('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"}]'))).toMatchObject({ batch: true });
  });

  it.each([
    ['not JSON', '{', 'parse_error'],
    ['an empty body', '', 'parse_error'],
    ['a string', '"hi"', 'invalid_request'],
    ['null', 'null', 'invalid_request'],
    ['an empty batch', '[]', 'invalid_request'],
    ['no jsonrpc member', '{"id":1,"method":"ping"}', 'invalid_request'],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}', 'invalid_request'],
    ['a non-string method', '{"jsonrpc":"2.0","id":1,"method":7}', 'invalid_request'],
    ['an object id', '{"jsonrpc":"2.0","id":{},"method":"ping"}', 'invalid_request'],
    ['neither method nor result', '{"jsonrpc":"2.0","id":1}', 'invalid_request'],
    ['a batch with one bad element', '[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]', 'invalid_request'],
  ])('refuses %s', (_name, body, expected) => {
    expect(code(body)).toBe(expected);
  });

  it.each([
    ['a repeated method (ours reads the last, a first-wins parser the first)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"admin_x"}}'],
    ['a repeated tool name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_x","name":"echo"}}'],
    ['the same name once escaped', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_x","n\\u0061me":"echo"}}'],
    ['a method differing only in case (Go encoding/json matches it)', '{"jsonrpc":"2.0","id":1,"method":"ping","METHOD":"tools/call","params":{"name":"admin_x"}}'],
    ['a tool name differing only in case', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"admin_x"}}'],
    ['params and paramſ (long s: the same name to Go)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"admin_x"}}'],
    ['a completion ref naming two prompts', '{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"a","NAME":"b"}}}'],
    ['a repeated member deep in the arguments', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":{"b":1,"b":2}}}}'],
    ['a repeated member in one element of a batch', '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping","method":"tools/call"}]'],
  ])('refuses ambiguous JSON another parser could read as another call: %s', (_name, body) => {
    expect(code(body)).toBe('invalid_request');
  });

  it('accepts names differing in case outside the envelope, and equal names in different objects', () => {
    expect(code('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"path":"a","PATH":"b","x":{"name":1},"y":[{"name":2},{"name":3}]}}}')).toBe('ok');
    expect(code('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]')).toBe('ok');
    expect(code('{"jsonrpc":"2.0","id":"a\\"b{[,","method":"ping","params":{"s":"}\\",\\"name\\":1"}}')).toBe('ok');
  });

  it('echoes the id of a single request only', () => {
    expect(idForErrorReply(parseJsonRpcBody('{"jsonrpc":"2.0","id":"x","method":"ping"}'))).toBe('x');
    expect(idForErrorReply(parseJsonRpcBody('[{"jsonrpc":"2.0","id":"x","method":"ping"}]'))).toBeNull();
    expect(idForErrorReply(undefined)).toBeNull();
  });

  it('serializes an error response', () => {
    expect(JSON.parse(buildJsonRpcError(3, -32700, 'Parse error'))).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32700, message: 'Parse error' } });
  });
});
