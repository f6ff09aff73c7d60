import { mkdtemp, readFile, rm, writeFile, appendFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OAuthClient } from '../../../src/authorization-server/client-metadata.js';
import { FileClientStore, FileRefreshTokenStore, MemoryEphemeralStore, type RefreshTokenFamily } from '../../../src/authorization-server/store/index.js';
import { silentLogger } from '../../../src/log/index.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'facade-store-'));
});
afterEach(async () => rm(directory, { recursive: true, force: true }));

const client = (clientId: string): OAuthClient => ({
  clientId,
  kind: 'registered',
  clientName: 'Test client',
  redirectUris: ['http://127.0.0.1:1234/callback'],
  grantTypes: ['authorization_code', 'refresh_token'],
  applicationType: 'native',
  issuedAt: 1_785_000_000,
});

const family = (id: string, currentHash: string, expiresAt = 2_000_000_000): RefreshTokenFamily => ({
  id,
  clientId: 'c1',
  subject: 'alice',
  scopes: ['tickets:read'],
  resource: 'https://mcp.example.com/mcp',
  claims: { groups: ['staff'] },
  authTime: 1_785_000_000,
  createdAt: 1_785_000_000,
  expiresAt,
  currentHash,
});

describe('file client store', () => {
  it('keeps registered clients across a restart, with private file permissions', async () => {
    const first = await FileClientStore.open(directory, silentLogger);
    await first.add(client('c1'));
    await first.add({ ...client('c2'), clientName: undefined });
    await first.close();

    const second = await FileClientStore.open(directory, silentLogger);
    expect(await second.get('c1')).toEqual(client('c1'));
    expect((await second.get('c2'))?.clientName).toBeUndefined();
    expect(await second.count()).toBe(2);
    await second.close();
    expect((await stat(join(directory, 'clients.jsonl'))).mode & 0o777).toBe(0o600);
  });

  it('drops a torn last line (crash mid-write) and keeps the rest', async () => {
    const first = await FileClientStore.open(directory, silentLogger);
    await first.add(client('c1'));
    await first.close();
    await appendFile(join(directory, 'clients.jsonl'), '{"v":1,"type":"client","client":{"clientId":"c2"');

    const second = await FileClientStore.open(directory, silentLogger);
    expect(await second.count()).toBe(1);
    await second.add(client('c3'));
    await second.close();
    const third = await FileClientStore.open(directory, silentLogger);
    expect(await third.get('c3')).toBeDefined();
    await third.close();
  });

  it('refuses to start with a damaged record in the middle', async () => {
    await writeFile(join(directory, 'clients.jsonl'), `${JSON.stringify({ v: 1, type: 'client', client: { clientId: 'x' } })}\n${JSON.stringify({ v: 1, type: 'client', client: client('c1') })}\n`);
    await expect(FileClientStore.open(directory, silentLogger)).rejects.toThrow(/clients\.jsonl:1: invalid record/);
  });
});

describe('file refresh token store', () => {
  it('rotates, detects reuse (revoking the family), and remembers both across a restart', async () => {
    const store = await FileRefreshTokenStore.open(directory, silentLogger);
    await store.create(family('f1', 'h1'));
    expect(await store.rotate('h1', 'h2', 1_785_000_100)).toMatchObject({ outcome: 'rotated', family: { id: 'f1' } });
    expect(await store.rotate('h2', 'h3', 1_785_000_200)).toMatchObject({ outcome: 'rotated' });
    await store.close();

    const restarted = await FileRefreshTokenStore.open(directory, silentLogger);
    // h1 was rotated away before the restart: presenting it again is reuse.
    expect(await restarted.rotate('h1', 'hx', 1_785_000_300)).toMatchObject({ outcome: 'reused', family: { id: 'f1' } });
    // The whole family is dead, including the current token.
    expect(await restarted.rotate('h3', 'hy', 1_785_000_301)).toEqual({ outcome: 'revoked' });
    await restarted.close();

    const again = await FileRefreshTokenStore.open(directory, silentLogger);
    expect(await again.rotate('h3', 'hz', 1_785_000_302)).toEqual({ outcome: 'revoked' });
    expect(await again.rotate('nope', 'hz', 1_785_000_302)).toEqual({ outcome: 'unknown' });
    await again.close();
  });

  it('of two concurrent uses of one token, one rotates and the other is reuse', async () => {
    const store = await FileRefreshTokenStore.open(directory, silentLogger);
    await store.create(family('f1', 'h1'));
    const results = await Promise.all([store.rotate('h1', 'a', 1_785_000_100), store.rotate('h1', 'b', 1_785_000_100)]);
    expect(results.map((result) => result.outcome).sort()).toEqual(['reused', 'rotated']);
    await store.close();
  });

  it('ends a family at its absolute expiry and drops it at start-up', async () => {
    let now = 1_785_000_000;
    const store = await FileRefreshTokenStore.open(directory, silentLogger, () => now);
    await store.create(family('f1', 'h1', 1_785_000_500));
    expect(await store.rotate('h1', 'h2', 1_785_000_600)).toEqual({ outcome: 'expired' });
    await store.close();
    now = 1_785_000_600;
    const restarted = await FileRefreshTokenStore.open(directory, silentLogger, () => now);
    expect(await restarted.findFamily('h1')).toBeUndefined();
    await restarted.close();
  });

  it('compacts the log and keeps reuse detection through it', async () => {
    const store = await FileRefreshTokenStore.open(directory, silentLogger);
    await store.create(family('f1', 'h0'));
    for (let i = 1; i <= 1100; i += 1) await store.rotate(`h${i - 1}`, `h${i}`, 1_785_000_000 + i);
    await store.close();
    const lines = (await readFile(join(directory, 'refresh-tokens.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThan(200);

    const restarted = await FileRefreshTokenStore.open(directory, silentLogger);
    expect(await restarted.rotate('h1099', 'x', 1_785_002_000)).toMatchObject({ outcome: 'reused' });
    await restarted.close();
  });
});

describe('memory ephemeral store', () => {
  it('take is single-use and entries expire', async () => {
    let now = 1_000_000;
    const store = new MemoryEphemeralStore<{ v: number }>({ maxEntries: 10, now: () => now });
    await store.set('a', { v: 1 }, 1000);
    await store.set('b', { v: 2 }, 1000);
    expect(await store.take('a')).toEqual({ v: 1 });
    expect(await store.take('a')).toBeUndefined();
    now = 1_001_001;
    expect(await store.get('b')).toBeUndefined();
  });
});
