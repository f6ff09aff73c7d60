import type { Readable, Writable } from 'node:stream';

/** Error code of a stream ended by the idle timeout. */
export const SSE_IDLE_TIMEOUT = 'SSE_IDLE_TIMEOUT';

export interface SseKeepAliveOptions {
  /** Send an SSE comment after this long without output, in ms (0 disables). */
  keepAliveMs: number;
  /** End the stream after this long without anything from the upstream, in ms (0 disables). */
  idleTimeoutMs: number;
}

/**
 * One interval per tick period, shared by every stream with that period: 5,000
 * idle streams cost one timer firing every few seconds, not 5,000 of them.
 */
const tickers = new Map<number, { timer: NodeJS.Timeout; streams: Set<SseKeepAlive> }>();

function startTicking(tickMs: number, stream: SseKeepAlive): void {
  let ticker = tickers.get(tickMs);
  if (!ticker) {
    const streams = new Set<SseKeepAlive>();
    const timer = setInterval(() => {
      const now = Date.now();
      // A stream that ends during its tick leaves the set; Set iteration allows that.
      for (const each of streams) each.tick(now);
    }, tickMs);
    timer.unref();
    ticker = { timer, streams };
    tickers.set(tickMs, ticker);
  }
  ticker.streams.add(stream);
}

function stopTicking(tickMs: number, stream: SseKeepAlive): void {
  const ticker = tickers.get(tickMs);
  if (!ticker?.streams.delete(stream) || ticker.streams.size > 0) return;
  clearInterval(ticker.timer);
  tickers.delete(tickMs);
}

/** The streams a keep-alive watches: what the upstream sends, what the client is sent, and the client. */
export interface SseStreams {
  /** The upstream's body: silence here for `idleTimeoutMs` ends the stream. */
  input: Readable;
  /** The last stage before the client (the input itself when nothing transforms it): comments go after its chunks. */
  output: Readable;
  /** The client's response, where comments are written. */
  client: Writable;
}

/**
 * For SSE responses: writes a comment line (`: keep-alive`) when the stream
 * has been quiet, so proxies and clients do not drop a healthy but silent
 * stream, and ends a stream the upstream has not fed for too long, so idle
 * streams cannot pile up (its input is destroyed with code SSE_IDLE_TIMEOUT).
 *
 * It watches the chunks go by (`data` listeners next to the pipe) and writes
 * its comments into the client's stream directly, so an SSE response gets no
 * extra stream stage. A comment is written only after a chunk that ended with
 * an LF: the SSE spec ignores comment lines anywhere between lines, even inside
 * an event, but a blank line would end the event.
 */
export class SseKeepAlive {
  #lastOutputAt = Date.now();
  #lastInputAt = Date.now();
  #atLineBoundary = true;
  /** How often the stream is looked at; undefined when neither keep-alives nor the idle timeout are on. */
  readonly #tickMs: number | undefined;
  readonly #streams: SseStreams;

  constructor(
    private readonly options: SseKeepAliveOptions,
    streams: SseStreams,
  ) {
    this.#streams = streams;
    // Rounded, so streams with the same options share one ticker.
    const tickMs = Math.round(Math.max(50, Math.min(options.keepAliveMs || Infinity, options.idleTimeoutMs || Infinity) / 4));
    if (!Number.isFinite(tickMs)) return;
    this.#tickMs = tickMs;
    startTicking(tickMs, this);
    if (streams.output !== streams.input) {
      streams.input.on('data', () => {
        this.#lastInputAt = Date.now();
      });
    }
    streams.output.on('data', (chunk: Buffer | string) => {
      const now = Date.now();
      this.#lastOutputAt = now;
      if (streams.output === streams.input) this.#lastInputAt = now;
      // After a CR an LF may still follow (a CRLF split across chunks): a comment
      // inserted there would turn that LF into a blank line, ending the event early.
      if (chunk.length > 0) this.#atLineBoundary = typeof chunk === 'string' ? chunk.endsWith('\n') : chunk[chunk.length - 1] === 0x0a;
    });
    streams.client.once('close', () => this.#stop());
    streams.output.once('end', () => this.#stop());
  }

  /** Called by the shared ticker: ends an idle stream, or writes a keep-alive comment. */
  tick(now: number): void {
    const { input, client } = this.#streams;
    if (client.writableEnded || client.destroyed) {
      this.#stop();
      return;
    }
    const { keepAliveMs, idleTimeoutMs } = this.options;
    if (idleTimeoutMs > 0 && now - this.#lastInputAt >= idleTimeoutMs) {
      this.#stop();
      input.destroy(Object.assign(new Error('SSE stream idle for too long'), { code: SSE_IDLE_TIMEOUT }));
      return;
    }
    if (keepAliveMs > 0 && this.#atLineBoundary && now - this.#lastOutputAt >= keepAliveMs) {
      this.#lastOutputAt = now;
      // A comment line only: a blank line here would dispatch the event in progress, if any.
      client.write(': keep-alive\n');
    }
  }

  #stop(): void {
    if (this.#tickMs !== undefined) stopTicking(this.#tickMs, this);
  }
}
