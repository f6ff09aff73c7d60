import { mkdir, open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../log/index.js';

/**
 * An append-only JSON-lines file: the facade's embedded durable store, with no native dependency.
 * - Every append is written and `fdatasync`ed before the promise resolves, so what a client was
 *   told (a registration, a rotated refresh token) is on disk first. Appends are serialised.
 * - On open every line is validated. A torn last line (a crash mid-write: no final newline) is
 *   dropped with a warning; any other invalid line stops the start-up (fail closed, with the
 *   file and line named) rather than silently losing or inventing state.
 * - `compact` replaces the file atomically: a temporary file written and fsynced, renamed over
 *   the old one, and the directory fsynced.
 * One process per file: replicas need a shared store (docs/as-facade.md).
 */
export class JsonLinesFile<R> {
  readonly path: string;
  #handle: FileHandle;
  #queue: Promise<unknown> = Promise.resolve();
  #appendedSinceCompaction = 0;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /**
   * Opens (creating the directory, mode 0700, and the file, mode 0600) and reads every record.
   * @throws Error naming the file and line of an invalid record.
   */
  static async open<R>(path: string, parse: (value: unknown) => R, logger: Logger): Promise<{ file: JsonLinesFile<R>; records: R[] }> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const records: R[] = [];
    const lines = text.split('\n');
    let offset = 0;
    for (const [index, line] of lines.entries()) {
      const isLast = index === lines.length - 1;
      if (line.trim() !== '') {
        try {
          records.push(parse(JSON.parse(line)));
        } catch (error) {
          if (!isLast) throw new Error(`${path}:${index + 1}: invalid record (${(error as Error).message}); refusing to start with a damaged store`);
          logger.warn({ file: path, line: index + 1 }, 'dropping a torn last record (the previous run stopped mid-write)');
          await truncate(path, offset);
          break;
        }
      }
      offset += Buffer.byteLength(line) + 1;
    }
    const handle = await open(path, 'a', 0o600);
    return { file: new JsonLinesFile<R>(path, handle), records };
  }

  /** Records appended since the last compaction (callers decide when compacting pays). */
  get appendedSinceCompaction(): number {
    return this.#appendedSinceCompaction;
  }

  /** Appends records and waits until they are on disk. */
  append(...records: R[]): Promise<void> {
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    return this.#enqueue(async () => {
      await this.#handle.appendFile(text);
      await this.#handle.datasync();
      this.#appendedSinceCompaction += records.length;
    });
  }

  /** Replaces the whole file with `records`, atomically. */
  compact(records: readonly R[]): Promise<void> {
    return this.#enqueue(async () => {
      const temporary = `${this.path}.tmp`;
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#handle.close();
      await rename(temporary, this.path);
      await syncDirectory(dirname(this.path));
      this.#handle = await open(this.path, 'a', 0o600);
      this.#appendedSinceCompaction = 0;
    });
  }

  /** Waits for pending writes, then closes. */
  close(): Promise<void> {
    return this.#enqueue(() => this.#handle.close());
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** fsync a directory, so a rename in it survives a power loss (not possible everywhere; best effort). */
async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // e.g. EISDIR/EPERM on platforms that cannot fsync a directory
  } finally {
    await handle?.close();
  }
}
