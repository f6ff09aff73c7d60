import pino from 'pino';
import type { AuditRecord } from './audit-record.js';
import { recordLine } from './record-line.js';

/** Longest time a record waits in the async buffer before it is written. */
export const PERIODIC_FLUSH_MS = 1000;

/** Async mode writes once about this much is batched (or after PERIODIC_FLUSH_MS). */
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
  /** Async mode: lines not handed to the destination yet, joined (V8 makes `+=` of strings cheap). */
  #pending = '';
  readonly #batched: boolean;
  #count = 0;

  constructor(sink: AuditSink, mode: AuditWriteMode = 'async') {
    this.#batched = sink.type !== 'stream' && mode === 'async';
    if (sink.type === 'stream') {
      this.#write = sink.write;
      return;
    }
    const destination = pino.destination({
      dest: sink.type === 'file' ? sink.path : 1,
      sync: mode === 'sync',
      mkdir: sink.type === 'file',
      // Async: a whole batch (below) is written as it arrives; a partial one handed over by the
      // periodic hand-over or flush() waits in sonic-boom for flush()/flushSync(), so flush()
      // writes it synchronously instead of racing an asynchronous write of it.
      minLength: mode === 'async' ? ASYNC_BATCH_BYTES - 1 : 0,
      maxWrite: 4 * ASYNC_BATCH_BYTES,
      // Buffers, not strings: sonic-boom then neither concatenates strings nor re-measures
      // their UTF-8 length after each write (docs/performance.md).
      contentMode: 'buffer',
    });
    this.#destination = destination;
    // (sonic-boom's types name strings only; in buffer mode it takes Buffers.)
    this.#write = (line) => destination.write(Buffer.from(line) as unknown as string);
    // At low traffic, what is batched is written within a second, so records reach the file
    // (and `tail -f`) promptly and a killed gateway loses at most the last second.
    if (this.#batched) {
      setInterval(() => {
        if (this.#pending === '') return;
        this.#handOver();
        destination.flush();
      }, PERIODIC_FLUSH_MS).unref();
    }
  }

  /** Records written since start (for tests and metrics). */
  get count(): number {
    return this.#count;
  }

  write(record: AuditRecord): void {
    this.#count += 1;
    if (!this.#batched) {
      this.#write(recordLine(record));
      return;
    }
    // Async mode hands records over in batches of ~64 KiB: one Buffer and one write per batch.
    // Each async write is a hop to libuv's thread pool, and where the gateway shares a core that
    // hop costs two context switches: with 4 KiB writes it was a third of the trail's cost
    // (docs/performance.md).
    this.#pending += recordLine(record);
    if (this.#pending.length >= ASYNC_BATCH_BYTES) this.#handOver();
  }

  /** Writes buffered records out now (synchronously). */
  flush(): void {
    this.#handOver();
    try {
      this.#destination?.flushSync();
    } catch {
      // sonic-boom throws when its file is not open yet and nothing was written: nothing to flush.
    }
  }

  #handOver(): void {
    if (this.#pending === '') return;
    this.#write(this.#pending);
    this.#pending = '';
  }
}
