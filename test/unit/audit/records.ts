import { AUDIT_SCHEMA, type AuditRecord } from '../../../src/audit/audit-record.js';

/** The `who` and rule as the trail builds them: frozen, shared by every record of that caller or rule. */
export const WHO = Object.freeze({
  issuer: 'https://as.example/',
  subject: 'alice',
  clientId: 'agent-7',
  authMethod: 'jwt',
  tokenFingerprint: 'AbC_dEf-1234',
  scopes: Object.freeze(['tickets:read', 'tickets:write']),
});
export const RULE = Object.freeze({ kind: 'tool', pattern: 'create_*', id: 'writers', file: 'tickets.yaml', line: 12 });

/** A record with every member a tool call can have; `overrides` replaces members (undefined leaves one out). */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    schema: AUDIT_SCHEMA,
    time: '2026-11-25T16:00:00.123Z',
    eventId: '0b7e2f1c-3a55-4f0e-9d3c-5c1e2a9f8b11',
    event: 'mcp.message',
    requestId: 'req-1',
    sessionId: 'session-9',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    who: WHO,
    source: { ip: '127.0.0.1', userAgent: 'agent/1.0' },
    what: { httpMethod: 'POST', jsonrpcId: 42, method: 'tools/call', target: { kind: 'tool', name: 'create_ticket' }, arguments: { title: 'x', token: '[REDACTED]' } },
    decision: {
      effect: 'allow',
      reason: 'allowed',
      rules: [RULE],
      requiredScopes: ['tickets:write'],
      missingScopes: [],
      failedConditions: undefined,
      policyVersion: 'sha256:abc',
    },
    outcome: { status: 200, result: 'success' },
    latencyMs: 1.234,
    upstreamMs: 0.5,
    upstream: { credential: { type: 'api_key', header: 'x-api-key' } },
    presentedToken: undefined,
    ...overrides,
  };
}
