export { OtlpExporter, SPAN_KIND, type FinishedSpan, type OtlpExporterOptions } from './otlp-exporter.js';
export { RequestTrace } from './request-trace.js';
export { formatTraceparent, newSpanId, newTraceId, parseTraceparent, type TraceParent } from './trace-context.js';
