import type { Logger } from '../log/index.js';

/** OTLP span kinds (opentelemetry-proto trace.proto). */
export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: (typeof SPAN_KIND)[keyof typeof SPAN_KIND];
  /** Epoch nanoseconds, as strings (OTLP/JSON encodes uint64 as strings). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  error?: boolean;
}

export interface OtlpExporterOptions {
  endpoint: string;
  serviceName: string;
  headers: Record<string, string>;
  logger: Logger;
  /** Send when this many spans are waiting, in addition to the timer. */
  maxBatch?: number;
  intervalMs?: number;
  /** Spans kept while the collector is away; older ones are dropped. */
  maxQueue?: number;
  fetch?: typeof fetch;
}

/**
 * A small OTLP/HTTP exporter (JSON encoding): spans are queued and sent in
 * batches off the request path. A collector that is down costs dropped spans
 * (counted), never a slower or failed request.
 */
export class OtlpExporter {
  readonly #options: Required<Omit<OtlpExporterOptions, 'fetch'>> & { fetch: typeof fetch };
  #queue: FinishedSpan[] = [];
  #timer: NodeJS.Timeout;
  #inFlight: Promise<void> | undefined;
  dropped = 0;
  sent = 0;

  constructor(options: OtlpExporterOptions) {
    this.#options = { maxBatch: 256, intervalMs: 1000, maxQueue: 10_000, fetch: globalThis.fetch, ...options };
    this.#timer = setInterval(() => void this.flush(), this.#options.intervalMs);
    this.#timer.unref();
  }

  export(span: FinishedSpan): void {
    if (this.#queue.length >= this.#options.maxQueue) {
      this.dropped += 1;
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#options.maxBatch) void this.flush();
  }

  /** Sends what is queued now. */
  async flush(): Promise<void> {
    await this.#inFlight;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = this.#send(batch).finally(() => (this.#inFlight = undefined));
    await this.#inFlight;
  }

  async shutdown(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #send(batch: FinishedSpan[]): Promise<void> {
    const { endpoint, headers, logger, fetch: fetchImpl } = this.#options;
    try {
      const response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(this.#encode(batch)),
        signal: AbortSignal.timeout(5000),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`collector answered HTTP ${response.status}`);
      this.sent += batch.length;
    } catch (error) {
      this.dropped += batch.length;
      logger.warn({ error: (error as Error).message, spans: batch.length }, 'OTLP export failed; spans dropped');
    }
  }

  #encode(batch: FinishedSpan[]) {
    return {
      resourceSpans: [
        {
          resource: { attributes: [attribute('service.name', this.#options.serviceName)] },
          scopeSpans: [
            {
              scope: { name: 'mcp-auth-gateway' },
              spans: batch.map((span) => ({
                traceId: span.traceId,
                spanId: span.spanId,
                ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
                name: span.name,
                kind: span.kind,
                startTimeUnixNano: span.startTimeUnixNano,
                endTimeUnixNano: span.endTimeUnixNano,
                attributes: Object.entries(span.attributes).map(([key, value]) => attribute(key, value)),
                status: { code: span.error ? 2 : 1 },
              })),
            },
          ],
        },
      ],
    };
  }
}

function attribute(key: string, value: string | number | boolean) {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number') return { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } };
  return { key, value: { stringValue: value } };
}
