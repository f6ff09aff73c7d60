import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../src/audit/index.js';

const redactor = createRedactor({ keys: ['iban'], paths: ['config.dsn', 'servers[*].url', '$.deep.*.x'], maxBytes: 2048 });
/** The redacted value; the JSON made with it (reused by the record line) must always be that value's. */
function redact(value: unknown): unknown {
  const redacted = redactor(value);
  expect(redacted.json).toBe(JSON.stringify(redacted.value));
  return redacted.value;
}

describe('argument redaction', () => {
  it('redacts sensitive keys at any depth, case-insensitively, including compound names', () => {
    expect(
      redact({
        Password: 'a',
        db_password: 'b',
        githubToken: 'c',
        'X-Api-Key': 'd',
        client_secret: 'e',
        nested: [{ Authorization: 'f', cookie: 'g', private_key: 'h', IBAN: 'i', safe: 'j' }],
      }),
    ).toEqual({
      Password: '[REDACTED]',
      db_password: '[REDACTED]',
      githubToken: '[REDACTED]',
      'X-Api-Key': '[REDACTED]',
      client_secret: '[REDACTED]',
      nested: [{ Authorization: '[REDACTED]', cookie: '[REDACTED]', private_key: '[REDACTED]', IBAN: '[REDACTED]', safe: 'j' }],
    });
  });

  it('redacts configured paths whatever the key', () => {
    expect(redact({ config: { dsn: 'postgres://u:p@h/db', name: 'x' }, servers: [{ url: 'a' }, { url: 'b', port: 1 }], deep: { a: { x: 1, y: 2 } } })).toEqual({
      config: { dsn: '[REDACTED]', name: 'x' },
      servers: [{ url: '[REDACTED]' }, { url: '[REDACTED]', port: 1 }],
      deep: { a: { x: '[REDACTED]', y: 2 } },
    });
  });

  it('masks bearer tokens and JWTs inside strings', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl';
    expect(redact({ text: `call with ${jwt} please`, header: 'Bearer abcdefgh12345678', other: 'bearer of news' })).toEqual({
      text: 'call with [REDACTED:jwt] please',
      header: 'Bearer [REDACTED]',
      other: 'bearer of news',
    });
  });

  it('caps size: long strings, long lists, and the whole', () => {
    const shortened = redact({ text: 'x'.repeat(1500), list: Array.from({ length: 150 }, (_, i) => i) }) as { text: string; list: unknown[] };
    expect(shortened.text).toMatch(/^x{1024}…\[\+476 chars\]$/);
    expect(shortened.list).toHaveLength(101);
    expect(shortened.list.at(-1)).toBe('[+50 items]');
    expect(redact({ many: Array.from({ length: 90 }, () => 'y'.repeat(100)) })).toEqual({ '[truncated]': true, bytes: expect.any(Number) });
  });

  it('survives deep nesting', () => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 50; i += 1) value = { child: value };
    expect(JSON.stringify(redact(value))).toContain('[depth limit]');
  });

  it('masks a JWT or bearer token used as a member name too', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
    expect(redact({ [jwt]: 1, nested: { [`Bearer ${'t'.repeat(20)}`]: 2, plain: 3 } })).toEqual({ '[REDACTED:jwt]': 1, nested: { 'Bearer [REDACTED]': 2, plain: 3 } });
  });

  it('a member named __proto__ stays a member of the record (and is redacted like any other)', () => {
    const parsed = JSON.parse('{"__proto__": {"password": "hunter2", "note": "x"}, "a": 1}') as unknown;
    const redacted = redact(parsed) as Record<string, unknown>;
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"password":"[REDACTED]","note":"x"},"a":1}');
  });
});
