import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from './trace-context.js';
import { SPAN_KIND, type FinishedSpan, type OtlpExporter } from './otlp-exporter.js';

/** Epoch nanoseconds now, as a string, with sub-millisecond precision. */
function nowNanos(): string {
  const epochNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return epochNs.toString();
}

/**
 * The trace of one request through the gateway: a server span (a child of the
 * client's `traceparent` when there is one) and children for authentication,
 * policy and the upstream call. Without an exporter it only carries the trace
 * id for the audit record and leaves `traceparent` to pass through untouched.
 */
export class RequestTrace {
  /** The trace id: the client's, or a new one when spans are exported; undefined otherwise. */
  readonly traceId: string | undefined;
  readonly sampled: boolean;
  readonly #exporter: OtlpExporter | undefined;
  readonly #serverSpanId: string;
  readonly #parentSpanId: string | undefined;
  /** Start of the server span, read only when spans are recorded (a BigInt and a string per request otherwise). */
  readonly #start: string;
  #upstreamSpan: { spanId: string; start: string } | undefined;

  constructor(incoming: string | undefined, exporter: OtlpExporter | undefined, sampleRatio: number) {
    const parent = parseTraceparent(incoming);
    this.#exporter = exporter;
    this.traceId = parent?.traceId ?? (exporter ? newTraceId() : undefined);
    this.sampled = parent ? parent.sampled : Math.random() < sampleRatio;
    this.#parentSpanId = parent?.spanId;
    this.#serverSpanId = exporter ? newSpanId() : '';
    this.#start = this.recording ? nowNanos() : '';
  }

  /** True when spans are recorded and exported. */
  get recording(): boolean {
    return this.#exporter !== undefined && this.sampled;
  }

  /** Times `work` as a child span of the request. */
  async span<T>(name: string, work: () => Promise<T>, attributes: Record<string, string | number | boolean> = {}): Promise<T> {
    if (!this.recording) return work();
    const start = nowNanos();
    let failed = false;
    try {
      return await work();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.#emit({ spanId: newSpanId(), parentSpanId: this.#serverSpanId, name, kind: SPAN_KIND.internal, start, attributes, error: failed });
    }
  }

  /** Times synchronous `work` as a child span (no promise on the request path). */
  spanSync<T>(name: string, work: () => T, attributes: Record<string, string | number | boolean> = {}): T {
    if (!this.recording) return work();
    const start = nowNanos();
    let failed = false;
    try {
      return work();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.#emit({ spanId: newSpanId(), parentSpanId: this.#serverSpanId, name, kind: SPAN_KIND.internal, start, attributes, error: failed });
    }
  }

  /** The `traceparent` to send upstream (a new client span), or undefined to pass the client's through. */
  startUpstream(): string | undefined {
    if (!this.#exporter) return undefined;
    this.#upstreamSpan = { spanId: newSpanId(), start: nowNanos() };
    return formatTraceparent({ traceId: this.traceId!, spanId: this.#upstreamSpan.spanId, sampled: this.sampled });
  }

  endUpstream(attributes: Record<string, string | number | boolean>, error: boolean): void {
    if (!this.recording || !this.#upstreamSpan) return;
    const { spanId, start } = this.#upstreamSpan;
    this.#emit({ spanId, parentSpanId: this.#serverSpanId, name: 'mcp.upstream', kind: SPAN_KIND.client, start, attributes, error });
  }

  /** Ends the server span. */
  end(attributes: Record<string, string | number | boolean>, error: boolean): void {
    if (!this.recording) return;
    this.#emit({
      spanId: this.#serverSpanId,
      ...(this.#parentSpanId ? { parentSpanId: this.#parentSpanId } : {}),
      name: 'mcp.request',
      kind: SPAN_KIND.server,
      start: this.#start,
      attributes,
      error,
    });
  }

  #emit(span: Omit<FinishedSpan, 'traceId' | 'startTimeUnixNano' | 'endTimeUnixNano'> & { start: string }): void {
    const { start, ...rest } = span;
    this.#exporter!.export({ ...rest, traceId: this.traceId!, startTimeUnixNano: start, endTimeUnixNano: nowNanos() });
  }
}
