/**
 * Property-based fuzzing of the request-body path: the JSON depth check and the
 * JSON-RPC parser. Whatever the bytes, the only way out is a message list or a
 * GatewayError the error table turns into a 400; accepted messages keep their
 * method and id exactly. Runs are bounded (numRuns) and seeded by fast-check
 * (a failure prints its seed and shrunk counterexample).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/index.js';
import { idForErrorReply, parseJsonRpcBody, type JsonRpcBody } from '../../src/jsonrpc/index.js';
import { checkJsonShape } from '../../src/limits/index.js';

const RUNS = { numRuns: 400 };

/** Runs the body path as read-json-rpc does: depth check, then parse. */
function readBody(bytes: Uint8Array, maxDepth = 64): JsonRpcBody {
  checkJsonShape(bytes, { maxDepth });
  return parseJsonRpcBody(bytes);
}

/** Returns the body, or the GatewayError code; any other exception fails the property. */
function outcome(run: () => JsonRpcBody): JsonRpcBody | { code: string } {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw new Error(`not a GatewayError: ${String(error)}`, { cause: error });
    expect(['parse_error', 'invalid_request']).toContain(error.code);
    return { code: error.code };
  }
}

const utf8 = (text: string) => new TextEncoder().encode(text);

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === 'object' && value !== null) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

const id = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const method = fc.oneof(fc.constantFrom('tools/call', 'tools/list', 'initialize', 'ping', 'notifications/initialized', 'prompts/get', 'resources/read'), fc.string());
// Lower-case member names only: names differing only in case are refused in the envelope (below).
const params = fc.option(fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '_'), minLength: 1 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), { nil: undefined });
const request = fc.record({ jsonrpc: fc.constant('2.0'), id, method, params }, { requiredKeys: ['jsonrpc', 'id', 'method'] });
const notification = fc.record({ jsonrpc: fc.constant('2.0'), method, params }, { requiredKeys: ['jsonrpc', 'method'] });
const response = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(id, fc.constant(null)), result: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(id, fc.constant(null)), error: fc.record({ code: fc.integer(), message: fc.string() }) }),
);
const message = fc.oneof(request, notification, response);

/** A JSON text with whitespace around its tokens, as a hostile client may format it. */
function spaced(value: unknown, space: string): string {
  return JSON.stringify(value, null, space);
}

describe('JSON-RPC body parser (fast-check)', () => {
  it('arbitrary bytes: a message list or parse_error / invalid_request, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(() => readBody(bytes));
      }),
      RUNS,
    );
  });

  it('arbitrary JSON text: never another exception; a non-JSON-RPC value is invalid_request, not parse_error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = outcome(() => readBody(utf8(JSON.stringify(value))));
        if ('code' in result) expect(result.code).toBe('invalid_request');
      }),
      RUNS,
    );
  });

  it('arbitrary strings with JSON-ish noise (unicode, lone surrogates, escapes): never another exception', () => {
    const noisy = fc.array(fc.oneof(fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '"jsonrpc"', '"2.0"', '"method"', '"id"', '\\u0000', '\ud800', '1e400', '-0', 'null'), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 24 });
    fc.assert(
      fc.property(noisy, (parts) => {
        outcome(() => readBody(utf8(parts.join(''))));
      }),
      // Generating full-Unicode strings is the slow part here, not the parser.
      { numRuns: 100 },
    );
  });

  it('accepted messages keep their kind, method and id exactly (single and batch, any whitespace)', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.constantFrom('', ' ', '\t', '\n', '\r\n  '), (messages, asBatch, space) => {
        const value = asBatch ? messages : messages[0];
        const body = readBody(utf8(spaced(value, space)));
        expect(body.batch).toBe(asBatch);
        const expected = asBatch ? messages : [messages[0]!];
        expect(body.messages).toHaveLength(expected.length);
        body.messages.forEach((parsed, index) => {
          const original = expected[index] as Record<string, unknown>;
          if ('method' in original) {
            expect(parsed.kind).toBe('id' in original ? 'request' : 'notification');
            expect((parsed as { method: string }).method).toBe(original.method);
          } else {
            expect(parsed.kind).toBe('response');
          }
          // The id as JSON.parse reads it (-0 and 1e2 are the numbers they spell).
          if ('id' in original) expect((parsed as { id: unknown }).id).toEqual(JSON.parse(JSON.stringify(original.id)));
        });
        // The id echoed in an error reply is the request's own, or null for batches and others.
        const replyId = idForErrorReply(body);
        if (asBatch || body.messages[0]!.kind !== 'request') expect(replyId).toBeNull();
        else expect(replyId).toEqual((body.messages[0] as { id: unknown }).id);
      }),
      RUNS,
    );
  });

  it('a JSON-RPC member of the wrong type is invalid_request, never a guess', () => {
    const wrong = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
    fc.assert(
      fc.property(fc.constantFrom('jsonrpc', 'id', 'method'), wrong, message, (key, value, base) => {
        const tampered = { ...base, [key]: value } as Record<string, unknown>;
        // Only a numeric id is a valid id of these; null only for a response.
        const accepted = key === 'id' && (typeof value === 'number' || (value === null && !('method' in base)));
        const result = outcome(() => readBody(utf8(JSON.stringify(tampered))));
        if (accepted) expect(result).not.toHaveProperty('code');
        else expect(result).toEqual({ code: 'invalid_request' });
      }),
      RUNS,
    );
  });

  it('a repeated envelope member, exact, escaped or in another case, is invalid_request (another parser could read it instead)', () => {
    const variant = fc.constantFrom(
      (name: string) => name,
      (name: string) => name.toUpperCase(),
      (name: string) => name[0]!.toUpperCase() + name.slice(1),
      (name: string) => `\\u${name.charCodeAt(0).toString(16).padStart(4, '0')}${name.slice(1)}`,
      (name: string) => name.replace(/s/g, '\u017f'),
    );
    fc.assert(
      fc.property(request, fc.constantFrom('jsonrpc', 'id', 'method', 'params', 'name'), variant, fc.boolean(), (base, member, spell, before) => {
        const message = { ...base, method: 'tools/call', params: { name: 'echo' } };
        const text = JSON.stringify(message);
        const inParams = member === 'name';
        const extra = `"${spell(member)}":${JSON.stringify(inParams ? 'admin_x' : member === 'params' ? { name: 'admin_x' } : 'tools/call')}`;
        // Insert the second member first or last in its object.
        const tampered = inParams
          ? text.replace('"params":{', before ? `"params":{${extra},` : '"params":{').replace(/"name":"echo"}/, before ? '"name":"echo"}' : `"name":"echo",${extra}}`)
          : before
            ? `{${extra},${text.slice(1)}`
            : `${text.slice(0, -1)},${extra}}`;
        expect(outcome(() => readBody(utf8(tampered)))).toEqual({ code: 'invalid_request' });
      }),
      RUNS,
    );
  });

  it('ids that are not finite numbers (1e400, overflowing exponents) are refused', () => {
    for (const text of ['1e400', '-1e400', '1e309']) {
      expect(outcome(() => readBody(utf8(`{"jsonrpc":"2.0","id":${text},"method":"ping"}`)))).toEqual({ code: 'invalid_request' });
    }
  });
});

describe('JSON depth check (fast-check)', () => {
  it('refuses exactly the values nested deeper than the limit, whatever their strings hold', () => {
    // Strings full of brackets, quotes and backslashes must not count as nesting.
    const tricky = fc.string({ unit: fc.constantFrom('{', '[', '}', ']', '"', '\\', 'a', '\u2028') });
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', maxDepth: 12 }, tricky, fc.integer(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(tricky, tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 10 }), (json, maxDepth) => {
        const bytes = utf8(JSON.stringify(json));
        let refused = false;
        try {
          checkJsonShape(bytes, { maxDepth });
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).code).toBe('invalid_request');
          refused = true;
        }
        expect(refused).toBe(depthOf(json) > maxDepth);
      }),
      RUNS,
    );
  });
});
