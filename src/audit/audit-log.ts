import pino from 'pino';
import type { AuditRecord } from './audit-record.js';
import { recordLine } from './record-line.js';

/** Longest time a record waits in the async buffer before it is written. */
export const PERIODIC_FLUSH_MS = 1000;

/** Async mode writes once this much is buffered (or after PERIODIC_FLUSH_MS). */
const ASYNC_BATCH_BYTES = 64 * 1024;

export type AuditSink = { type: 'stdout' } | { type: 'file'; path: string } | { type: 'stream'; write: (line: string) => void };

/** async: batched, flushed on shutdown; sync: each record handed to the kernel before write() returns. */
export type AuditWriteMode = 'async' | 'sync';

/**
 * The audit stream: one JSON line per record, on its own destination (never
 * the operational log). Writes go through pino's asynchronous destination
 * (sonic-boom) so the request path does not wait on the disk; `flush()` writes
 * everything out synchronously and is called on SIGTERM/SIGINT and on fatal
 * errors, so an answered request never loses its record. In `sync` mode each
 * record is written with write(2) before `write()` returns, so even a SIGKILL
 * of the gateway loses nothing already recorded (docs/performance.md has the cost).
 */
export class AuditLog {
  readonly #destination: ReturnType<typeof pino.destination> | undefined;
  readonly #write: (line: string) => void;
  #count = 0;

  constructor(sink: AuditSink, mode: AuditWriteMode = 'async') {
    if (sink.type === 'stream') {
      this.#write = sink.write;
      return;
    }
    const destination = pino.destination({
      dest: sink.type === 'file' ? sink.path : 1,
      sync: mode === 'sync',
      mkdir: sink.type === 'file',
      // Batch records into few large writes; flush() empties the buffer. Each async write is a
      // hop to libuv's thread pool, and where the gateway shares a core that hop costs two context
      // switches: with 4 KiB batches it was a third of the trail's cost (docs/performance.md).
      minLength: mode === 'sync' ? 0 : ASYNC_BATCH_BYTES,
      maxWrite: 4 * ASYNC_BATCH_BYTES,
      // ...and at low traffic write what is buffered within a second, so records reach the
      // file (and `tail -f`) promptly and a killed gateway loses at most the last second.
      periodicFlush: mode === 'sync' ? 0 : PERIODIC_FLUSH_MS,
      // Buffers, not strings: sonic-boom then neither concatenates strings nor re-measures
      // their UTF-8 length after each write (half the time per record, docs/performance.md).
      contentMode: 'buffer',
    });
    this.#destination = destination;
    // (sonic-boom's types name strings only; in buffer mode it takes Buffers.)
    this.#write = (line) => destination.write(Buffer.from(line) as unknown as string);
  }

  /** Records written since start (for tests and metrics). */
  get count(): number {
    return this.#count;
  }

  write(record: AuditRecord): void {
    this.#count += 1;
    this.#write(recordLine(record));
  }

  /** Writes buffered records out now (synchronously). */
  flush(): void {
    try {
      this.#destination?.flushSync();
    } catch {
      // sonic-boom throws when its file is not open yet and nothing was written: nothing to flush.
    }
  }
}
