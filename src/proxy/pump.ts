import type { Readable, Writable } from 'node:stream';

/**
 * Pipes `streams` into each other, like `stream.pipeline`, and settles when
 * the last one has finished (or any fails, when all are destroyed). On Node 20
 * `stream/promises` `pipeline()` creates and aborts an AbortController per call,
 * whose DOMException (with a stack trace) was the forwarder's single largest
 * cost per request (docs/decisions/0001-forwarding-engine.md); `pipe()` keeps
 * back-pressure without it.
 */
export function pump(streams: ReadonlyArray<Readable | Writable>): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (!error) return resolve();
      for (const stream of streams) stream.destroy();
      reject(error);
    };
    const last = streams[streams.length - 1] as Writable;
    for (let index = 0; index < streams.length; index += 1) {
      const stream = streams[index]!;
      stream.once('error', settle);
      if (index < streams.length - 1) {
        const source = stream as Readable;
        source.pipe(streams[index + 1] as Writable);
        // A source that closes without ending (aborted, reset) would otherwise leave the rest waiting.
        source.once('close', () => {
          if (!source.readableEnded) settle(new Error('premature close'));
        });
      }
    }
    last.once('finish', () => settle());
    last.once('close', () => {
      if (!last.writableFinished) settle(new Error('premature close'));
    });
  });
}
