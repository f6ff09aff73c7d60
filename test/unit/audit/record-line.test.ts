import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../src/audit/audit-record.js';
import { milliseconds, recordLine } from '../../../src/audit/record-line.js';
import { RedactedArguments } from '../../../src/audit/redact.js';
import { RULE, WHO, auditRecord } from './records.js';

// The hand-written serializer must give exactly JSON.stringify's bytes, for every shape a record takes.
const SHAPES: Record<string, AuditRecord> = {
  'a tool call, allowed and answered': auditRecord(),
  'a denial with missing scopes and failed conditions': auditRecord({
    decision: { effect: 'deny', reason: 'missing_scopes', rules: [RULE, Object.freeze({ kind: 'method', pattern: 'tools/*', file: 'base.yaml' })], requiredScopes: ['a', 'b'], missingScopes: ['b'], failedConditions: ['claims.department == "eng"'], policyVersion: 'v2' },
    outcome: { status: 403, result: 'denied', errorCode: 'insufficient_scope' },
    upstreamMs: undefined,
    upstream: undefined,
  }),
  'an authentication failure': auditRecord({
    event: 'authentication.failure',
    sessionId: undefined,
    traceId: undefined,
    who: undefined,
    source: { ip: '::1' },
    what: { httpMethod: 'POST' },
    decision: undefined,
    outcome: { status: 401, result: 'rejected', errorCode: 'token_invalid', reason: 'expired' },
    upstreamMs: undefined,
    upstream: undefined,
    presentedToken: { fingerprint: 'Zz9_-abcdEFG' },
  }),
  'a JSON-RPC error with a numeric code, a string id and no source': auditRecord({ source: {}, what: { httpMethod: 'POST', jsonrpcId: 'a"b', method: 'resources/read', target: { kind: 'resource', name: 'file:///x' } }, outcome: { status: 200, result: 'jsonrpc_error', errorCode: -32602 } }),
  'a notification (null id) and a user agent only': auditRecord({ source: { userAgent: 'ua' }, what: { httpMethod: 'POST', jsonrpcId: null, method: 'notifications/initialized' } }),
  'a scope elevation': auditRecord({ event: 'scope.elevation', correlatesWith: 'e-1', elevation: { previousScopes: ['a'], scopes: ['a', 'b'], requestedScopes: ['b'] } }),
  'client data that needs escaping': auditRecord({
    requestId: 'r',
    sessionId: 'quote " backslash \\ newline \n tab \t nul \u0000 lone surrogate \ud800 emoji 😀',
    source: { ip: '10.0.0.1', userAgent: 'Mozilla/5.0 "x" \u2028' },
    what: { httpMethod: 'POST', jsonrpcId: 1, method: 'tools/call', target: { kind: 'tool', name: 'naïve\u007f' }, arguments: { nested: { list: [1, 'two', null, true, { deep: '\u001f' }] } } },
  }),
  'arguments as the redactor hands them over (with their JSON)': auditRecord({ what: { httpMethod: 'POST', jsonrpcId: 7, method: 'tools/call', arguments: new RedactedArguments({ q: 'x', n: [1, 2] }, '{"q":"x","n":[1,2]}') } }),
  'numbers at their edges': auditRecord({ latencyMs: 0, upstreamMs: 1e21, outcome: { status: 502, result: 'upstream_failed' } }),
  'a who that is not frozen (built elsewhere): serialized each time': auditRecord({ who: { ...WHO, scopes: ['x'] } }),
};

describe('recordLine', () => {
  for (const [shape, record] of Object.entries(SHAPES)) {
    it(`${shape}: the same bytes as JSON.stringify`, () => {
      expect(recordLine(record)).toBe(`${JSON.stringify(record)}\n`);
      // Twice: the second line comes from the cached parts.
      expect(recordLine(record)).toBe(`${JSON.stringify(record)}\n`);
    });
  }

  it('a non-finite latency is written as JSON writes it (null), never as NaN', () => {
    const record = auditRecord({ latencyMs: Number.NaN });
    expect(recordLine(record)).toBe(`${JSON.stringify(record)}\n`);
    expect(JSON.parse(recordLine(record)).latencyMs).toBeNull();
  });

  it('durations rounded to the microsecond are written as JSON.stringify writes them', () => {
    const samples = [0, 0.001, 0.01, 0.1, 0.5, 1, 1.05, 1.2, 1.234, 10.007, 12.3, 99.999, 100, 123456.789, 2 ** 40 / 1000];
    for (let index = 0; index < 20_000; index += 1) samples.push(Math.round(Math.random() * 10 ** (index % 8) * 1000) / 1000);
    for (const value of samples) expect(milliseconds(value)).toBe(JSON.stringify(value));
    // Values it was not made for fall back to the general path.
    for (const value of [0.0001, 1.23456, -1.5, 1e21, Number.NaN]) expect(milliseconds(value)).toBe(JSON.stringify(value));
  });
});
