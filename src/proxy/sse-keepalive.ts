import { Transform, type TransformCallback } from 'node:stream';

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

/**
 * For SSE responses: writes a comment line (`: keep-alive`) when the stream
 * has been quiet, so proxies and clients do not drop a healthy but silent
 * stream, and ends a stream the upstream has not fed for too long, so idle
 * streams cannot pile up (the stream is destroyed with code SSE_IDLE_TIMEOUT). A keep-alive is
 * one comment line, sent only after an LF: the SSE spec ignores comment lines anywhere between
 * lines, even inside an event, but a blank line would end the event.
 */
export class SseKeepAlive extends Transform {
  #lastOutputAt = Date.now();
  #lastInputAt = Date.now();
  #atLineBoundary = true;
  /** How often the stream is looked at; undefined when neither keep-alives nor the idle timeout are on. */
  readonly #tickMs: number | undefined;

  constructor(private readonly options: SseKeepAliveOptions) {
    super();
    // Rounded, so streams with the same options share one ticker.
    const tickMs = Math.round(Math.max(50, Math.min(options.keepAliveMs || Infinity, options.idleTimeoutMs || Infinity) / 4));
    if (Number.isFinite(tickMs)) {
      this.#tickMs = tickMs;
      startTicking(tickMs, this);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const now = Date.now();
    this.#lastInputAt = now;
    this.#lastOutputAt = now;
    // After a CR an LF may still follow (a CRLF split across chunks): a comment
    // inserted there would turn that LF into a blank line, ending the event early.
    if (chunk.length > 0) this.#atLineBoundary = chunk[chunk.length - 1] === 0x0a;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#stop();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stop();
    callback(error);
  }

  /** Called by the shared ticker: ends an idle stream, or writes a keep-alive comment. */
  tick(now: number): void {
    const { keepAliveMs, idleTimeoutMs } = this.options;
    if (idleTimeoutMs > 0 && now - this.#lastInputAt >= idleTimeoutMs) {
      this.destroy(Object.assign(new Error('SSE stream idle for too long'), { code: SSE_IDLE_TIMEOUT }));
      return;
    }
    if (keepAliveMs > 0 && this.#atLineBoundary && now - this.#lastOutputAt >= keepAliveMs) {
      this.#lastOutputAt = now;
      // A comment line only: a blank line here would dispatch the event in progress, if any.
      this.push(': keep-alive\n');
    }
  }

  #stop(): void {
    if (this.#tickMs !== undefined) stopTicking(this.#tickMs, this);
  }
}
