import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, PERIODIC_FLUSH_MS } from '../../../src/audit/audit-log.js';
import { auditRecord } from './records.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function auditFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'audit-log-'));
  directories.push(directory);
  return join(directory, 'audit.jsonl');
}

const record = (n: number) => auditRecord({ eventId: `e${n}` });
const linesIn = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('AuditLog write modes', () => {
  it('sync: every record is in the file when write() returns (a SIGKILL right after loses nothing)', () => {
    const file = auditFile();
    const log = new AuditLog({ type: 'file', path: file }, 'sync');
    for (let n = 1; n <= 3; n += 1) {
      log.write(record(n));
      expect(linesIn(file)).toBe(n);
    }
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[2]!)).toMatchObject({ eventId: 'e3' });
  });

  it('async: small records are batched in memory, and flush() writes them all out', async () => {
    const file = auditFile();
    const log = new AuditLog({ type: 'file', path: file });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the file is opened asynchronously
    for (let n = 1; n <= 3; n += 1) log.write(record(n));
    expect(linesIn(file)).toBe(0);
    log.flush();
    expect(linesIn(file)).toBe(3);
    expect(log.count).toBe(3);
  });

  it('async: at low traffic, buffered records reach the file within the periodic flush without flush()', async () => {
    const file = auditFile();
    const log = new AuditLog({ type: 'file', path: file });
    await new Promise((resolve) => setTimeout(resolve, 50));
    log.write(record(1));
    expect(linesIn(file)).toBe(0);
    const deadline = Date.now() + PERIODIC_FLUSH_MS + 1000;
    while (linesIn(file) < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(linesIn(file)).toBe(1);
  });
});
