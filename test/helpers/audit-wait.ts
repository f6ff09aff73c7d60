import { expect } from 'vitest';
import type { AuditRecord } from '../../src/audit/index.js';

/**
 * The audit records of one response, by its `X-Request-Id`. A record is written when the
 * response has ended on the gateway's side, which can be just after the client read the body:
 * wait for it rather than read the trail at once.
 */
export async function auditRecordsOf(stack: { auditRecords: () => AuditRecord[] }, response: { headers: Headers }): Promise<AuditRecord[]> {
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  const matching = () => stack.auditRecords().filter((record) => record.requestId === requestId);
  await expect.poll(() => matching().length, { timeout: 5000, interval: 20 }).toBeGreaterThan(0);
  return matching();
}
