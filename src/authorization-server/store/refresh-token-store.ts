import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../log/index.js';
import { JsonLinesFile } from './json-lines-file.js';

/**
 * One login's refresh tokens: every rotation replaces the current token, and the family (not a
 * single token) is what gets revoked (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2). Tokens are kept only
 * as SHA-256 hashes. Times are seconds since the epoch.
 */
export interface RefreshTokenFamily {
  id: string;
  clientId: string;
  /** The user (the access tokens' `sub`). */
  subject: string;
  scopes: string[];
  resource: string;
  /** Claims copied from the identity provider at login, repeated in every access token of the family. */
  claims: Record<string, unknown>;
  authTime: number;
  createdAt: number;
  /** Absolute end of the family; rotation does not extend it. */
  expiresAt: number;
  /** Hash of the one refresh token that is valid now. */
  currentHash: string;
}

export type RotationResult =
  /** The presented token was the current one: the family now has `nextHash` as current. */
  | { outcome: 'rotated'; family: RefreshTokenFamily }
  /** The presented token had already been rotated away: reuse, so the family was revoked. */
  | { outcome: 'reused'; family: RefreshTokenFamily }
  | { outcome: 'revoked' | 'expired' | 'unknown' };

/**
 * Where refresh token families live. A shared implementation (several replicas) must make
 * `rotate` atomic — compare the presented hash with the current one and swap in one step
 * (e.g. `UPDATE … SET current_hash = $next WHERE id = $id AND current_hash = $presented`), and
 * treat a presented hash found among the family's previous ones as reuse.
 */
export interface RefreshTokenStore {
  /** Stores a new family; resolves once it is durable. */
  create(family: RefreshTokenFamily): Promise<void>;
  /** Rotates the family of the presented token hash (see RotationResult); durable before it resolves. */
  rotate(presentedHash: string, nextHash: string, nowSeconds: number): Promise<RotationResult>;
  /** Revokes a family (no-op when unknown); durable before it resolves. */
  revoke(familyId: string, reason: string): Promise<void>;
  /** The family of a token hash (current or previous), whatever its state (checks before a rotation, revocation by token). */
  findFamily(tokenHash: string): Promise<RefreshTokenFamily | undefined>;
  close(): Promise<void>;
}

const familySchema = z.object({
  id: z.string().min(1),
  clientId: z.string().min(1),
  subject: z.string().min(1),
  scopes: z.array(z.string()),
  resource: z.string().min(1),
  claims: z.record(z.string(), z.unknown()),
  authTime: z.number(),
  createdAt: z.number(),
  expiresAt: z.number(),
  currentHash: z.string().min(1),
});
const recordSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('family'), family: familySchema }),
  z.object({ v: z.literal(1), type: z.literal('rotate'), id: z.string(), hash: z.string(), at: z.number() }),
  z.object({ v: z.literal(1), type: z.literal('revoke'), id: z.string(), at: z.number(), reason: z.string() }),
]);
type FamilyRecord = z.infer<typeof recordSchema>;

interface FamilyState {
  family: RefreshTokenFamily;
  /** Hashes rotated away, newest last (bounded). */
  previous: string[];
  revoked: boolean;
}

/** How many rotated-away hashes a family remembers for reuse detection. */
const MAX_PREVIOUS_HASHES = 64;
/** Compact when the file holds this many records more than the live state needs. */
const COMPACTION_SLACK = 1000;

/**
 * The default RefreshTokenStore: `refresh-tokens.jsonl` in the data directory (family created,
 * rotated, revoked), replayed into memory at start-up; expired families are dropped when the file
 * is compacted (at start-up and once enough records have accumulated).
 */
export class FileRefreshTokenStore implements RefreshTokenStore {
  readonly #families = new Map<string, FamilyState>();
  readonly #byHash = new Map<string, string>();
  readonly #file: JsonLinesFile<FamilyRecord>;
  readonly #now: () => number;

  private constructor(file: JsonLinesFile<FamilyRecord>, now: () => number) {
    this.#file = file;
    this.#now = now;
  }

  /** @param now seconds since the epoch */
  static async open(directory: string, logger: Logger, now: () => number = () => Math.floor(Date.now() / 1000)): Promise<FileRefreshTokenStore> {
    const { file, records } = await JsonLinesFile.open(join(directory, 'refresh-tokens.jsonl'), (value) => recordSchema.parse(value), logger);
    const store = new FileRefreshTokenStore(file, now);
    for (const record of records) store.#apply(record);
    store.#dropExpired();
    await store.#compactIfWorthIt(records.length);
    return store;
  }

  async create(family: RefreshTokenFamily): Promise<void> {
    await this.#file.append({ v: 1, type: 'family', family });
    this.#apply({ v: 1, type: 'family', family });
  }

  async rotate(presentedHash: string, nextHash: string, nowSeconds: number): Promise<RotationResult> {
    const id = this.#byHash.get(presentedHash);
    const state = id === undefined ? undefined : this.#families.get(id);
    if (!state) return { outcome: 'unknown' };
    if (state.revoked) return { outcome: 'revoked' };
    if (state.family.expiresAt <= nowSeconds) return { outcome: 'expired' };
    if (state.family.currentHash !== presentedHash) {
      // Decided and applied synchronously (no await in between), so of two concurrent uses of one
      // token exactly one rotates and the other is reuse.
      const record: FamilyRecord = { v: 1, type: 'revoke', id: state.family.id, at: nowSeconds, reason: 'refresh token reuse' };
      this.#apply(record);
      await this.#append(record);
      return { outcome: 'reused', family: { ...state.family } };
    }
    const record: FamilyRecord = { v: 1, type: 'rotate', id: state.family.id, hash: nextHash, at: nowSeconds };
    this.#apply(record);
    await this.#append(record);
    return { outcome: 'rotated', family: { ...state.family } };
  }

  async revoke(familyId: string, reason: string): Promise<void> {
    const state = this.#families.get(familyId);
    if (!state || state.revoked) return;
    const record: FamilyRecord = { v: 1, type: 'revoke', id: familyId, at: this.#now(), reason };
    this.#apply(record);
    await this.#append(record);
  }

  async findFamily(tokenHash: string): Promise<RefreshTokenFamily | undefined> {
    const id = this.#byHash.get(tokenHash);
    const state = id === undefined ? undefined : this.#families.get(id);
    return state ? { ...state.family } : undefined;
  }

  close(): Promise<void> {
    return this.#file.close();
  }

  async #append(record: FamilyRecord): Promise<void> {
    await this.#file.append(record);
    await this.#compactIfWorthIt(this.#file.appendedSinceCompaction);
  }

  #apply(record: FamilyRecord): void {
    switch (record.type) {
      case 'family':
        this.#families.set(record.family.id, { family: { ...record.family }, previous: [], revoked: false });
        this.#byHash.set(record.family.currentHash, record.family.id);
        return;
      case 'rotate': {
        const state = this.#families.get(record.id);
        if (!state) return;
        state.previous.push(state.family.currentHash);
        if (state.previous.length > MAX_PREVIOUS_HASHES) this.#byHash.delete(state.previous.shift()!);
        state.family.currentHash = record.hash;
        this.#byHash.set(record.hash, record.id);
        return;
      }
      case 'revoke': {
        const state = this.#families.get(record.id);
        if (state) state.revoked = true;
        return;
      }
    }
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [id, state] of this.#families) {
      if (state.family.expiresAt > now) continue;
      this.#families.delete(id);
      this.#byHash.delete(state.family.currentHash);
      for (const hash of state.previous) this.#byHash.delete(hash);
    }
  }

  /** The records that rebuild the live state: each family as it is now (+ its revocation). */
  #liveRecords(): FamilyRecord[] {
    const records: FamilyRecord[] = [];
    for (const state of this.#families.values()) {
      // Previous hashes are replayed as rotations so reuse detection survives compaction.
      const [first = state.family.currentHash, ...rest] = [...state.previous, state.family.currentHash];
      records.push({ v: 1, type: 'family', family: { ...state.family, currentHash: first } });
      for (const hash of rest) records.push({ v: 1, type: 'rotate', id: state.family.id, hash, at: state.family.createdAt });
      if (state.revoked) records.push({ v: 1, type: 'revoke', id: state.family.id, at: state.family.createdAt, reason: 'revoked' });
    }
    return records;
  }

  async #compactIfWorthIt(recordsInFile: number): Promise<void> {
    const live = [...this.#families.values()].reduce((sum, state) => sum + 2 + state.previous.length, 0);
    if (recordsInFile < live + COMPACTION_SLACK) return;
    this.#dropExpired();
    await this.#file.compact(this.#liveRecords());
  }
}
