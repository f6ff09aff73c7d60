import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hashToken, SubjectToken } from '../../../src/auth/index.js';

describe('SubjectToken', () => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  const wrapped = new SubjectToken(token);

  it('never shows the token when serialized, inspected, spread or interpolated', () => {
    expect(JSON.stringify({ wrapped })).toBe('{"wrapped":"[redacted]"}');
    expect(inspect({ wrapped })).not.toContain(token);
    expect(JSON.stringify({ ...wrapped })).not.toContain(token);
    expect(`${wrapped}`).toBe('[redacted]');
  });

  it('reveals it only on request, and hashes it for cache keys', () => {
    expect(wrapped.reveal()).toBe(token);
    expect(wrapped.hash).toBe(hashToken(token));
  });
});
