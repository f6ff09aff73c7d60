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

  it('echoes the id of a single request only', () => {
    expect(idForErrorReply(parseJsonRpcBody('{"jsonrpc":"2.0","id":"x","method":"ping"}'))).toBe('x');
    expect(idForErrorReply(parseJsonRpcBody('[{"jsonrpc":"2.0","id":"x","method":"ping"}]'))).toBeNull();
    expect(idForErrorReply(undefined)).toBeNull();
  });

  it('serializes an error response', () => {
    expect(JSON.parse(buildJsonRpcError(3, -32700, 'Parse error'))).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32700, message: 'Parse error' } });
  });
});
