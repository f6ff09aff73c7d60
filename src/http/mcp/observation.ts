import type { ResponseOutcome } from '../../audit/index.js';
import type { RequestTrace } from '../../tracing/index.js';

/**
 * What the pipeline learns about one request while it runs, for the audit
 * record, metrics and the trace written when the response has ended. Created
 * by `observe`; later steps add to it.
 */
export interface RequestObservation {
  requestId: string;
  /** performance.now() at arrival. */
  startedAt: number;
  time: Date;
  trace: RequestTrace;
  /** Fingerprint of a token that was presented and refused. */
  refusedTokenFingerprint?: string;
  /** Set by `forward` once the upstream answered (or failed mid-stream). */
  forward?: { status: number; upstreamMs: number; endedBy: 'complete' | 'client' | 'upstream' };
  /** JSON-RPC outcomes read from the response, by `idKey`; absent (and not read) when audit is off. */
  outcomes?: Map<string, ResponseOutcome>;
}
