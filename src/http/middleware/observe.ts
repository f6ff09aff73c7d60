import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { buildAuditRecords, buildWho, type AuditLog, type AuditRecord, type ScopeElevationTracker } from '../../audit/index.js';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { methodLabel, type GatewayMetrics } from '../../metrics/index.js';
import { RequestTrace, type OtlpExporter } from '../../tracing/index.js';
import type { GatewayEnv } from '../context.js';
import type { RequestObservation } from '../observation.js';
import { readHeader } from '../request-headers.js';

export interface ObservabilityDependencies {
  audit: AuditLog | undefined;
  redactArguments: ((value: unknown) => unknown) | undefined;
  metrics: GatewayMetrics | undefined;
  exporter: OtlpExporter | undefined;
  sampleRatio: number;
  elevation: ScopeElevationTracker;
  logger: Logger;
}

/** A client's X-Request-Id is reused when it is short and plain; otherwise a new id is made. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * First step on the MCP endpoint: opens the request's observation, and when
 * the response has ended (streams included) writes its audit records, metrics
 * and trace. It runs for every outcome (success, denial, bad input, upstream
 * failure, client gone), so no answered request goes unrecorded.
 */
export function createObserve(deps: ObservabilityDependencies): MiddlewareHandler<GatewayEnv> {
  return async function observe(c, next) {
    const incomingId = readHeader(c, 'x-request-id');
    const observation: RequestObservation = {
      requestId: incomingId && REQUEST_ID.test(incomingId) ? incomingId : randomUUID(),
      startedAt: performance.now(),
      time: new Date(),
      trace: new RequestTrace(readHeader(c, 'traceparent'), deps.exporter, deps.sampleRatio),
      outcomes: new Map(),
    };
    c.set('observation', observation);
    try {
      await next();
    } finally {
      try {
        record(c, observation, deps);
      } catch (error) {
        deps.logger.error({ err: error, requestId: observation.requestId }, 'could not record the request');
      }
    }
  };
}

function record(c: Context<GatewayEnv>, observation: RequestObservation, deps: ObservabilityDependencies): void {
  const latencyMs = performance.now() - observation.startedAt;
  const forwarded = observation.forward;
  const status = forwarded?.status ?? c.res.status;
  const principal = c.get('principal');
  const decisions = c.get('decisions');
  const body = c.get('rpcBody');
  const error = c.error;
  const policy = c.get('policy');

  const records = buildAuditRecords(
    {
      requestId: observation.requestId,
      time: observation.time,
      latencyMs,
      httpMethod: c.req.method,
      sessionId: readHeader(c, 'mcp-session-id'),
      traceId: observation.trace.traceId,
      source: {
        ...(c.env?.incoming?.socket.remoteAddress ? { ip: c.env.incoming.socket.remoteAddress } : {}),
        ...(readHeader(c, 'user-agent') ? { userAgent: readHeader(c, 'user-agent') } : {}),
      },
      principal,
      refusedTokenFingerprint: observation.refusedTokenFingerprint,
      error,
      status,
      body,
      decisions,
      policyVersion: policy?.version,
      forward: forwarded,
      outcomes: observation.outcomes,
      serviceIdentity: c.get('upstreamIdentities')?.service,
    },
    deps.redactArguments,
  );

  if (principal) {
    const key = `${principal.issuer}\n${principal.subject}\n${principal.clientId ?? ''}`;
    const elevated = deps.elevation.checkElevation(key, principal.scopes);
    if (elevated && records[0]) {
      records.push({
        ...records[0],
        eventId: randomUUID(),
        event: 'scope.elevation',
        correlatesWith: elevated.eventId,
        elevation: { previousScopes: elevated.grantedScopes, scopes: [...principal.scopes], requestedScopes: elevated.requestedScopes },
      });
    }
    if (error instanceof GatewayError && (error.code === 'insufficient_scope' || error.code === 'denied_in_band') && error.requiredScopes && records[0]) {
      deps.elevation.recordChallenge(key, { eventId: records[0].eventId, requestedScopes: [...error.requiredScopes], grantedScopes: buildWho(principal).scopes });
    }
  }

  for (const auditRecord of records) {
    deps.audit?.write(auditRecord);
    deps.metrics?.auditRecords.inc({ event: auditRecord.event });
  }
  if (deps.metrics) recordMetrics(deps.metrics, c.req.method, status, records, latencyMs, error, forwarded);
  observation.trace.end(
    { 'http.request.method': c.req.method, 'http.response.status_code': status, 'mcp.request_id': observation.requestId, ...(records[0]?.what.method ? { 'mcp.method': records[0].what.method } : {}) },
    status >= 500,
  );
}

function recordMetrics(
  metrics: GatewayMetrics,
  httpMethod: string,
  status: number,
  records: readonly AuditRecord[],
  latencyMs: number,
  error: unknown,
  forwarded: RequestObservation['forward'],
): void {
  const statusLabel = String(status);
  metrics.requests.inc({ http_method: httpMethod, status: statusLabel });
  for (const auditRecord of records) {
    if (auditRecord.event === 'scope.elevation') continue;
    metrics.messages.inc({ method: methodLabel(auditRecord.what.method), decision: auditRecord.decision?.effect ?? 'none', status: statusLabel });
    if (auditRecord.event === 'authentication.failure') metrics.tokenFailures.inc({ reason: auditRecord.outcome.reason ?? 'unknown' });
  }
  metrics.requestDuration.observe({ method: methodLabel(records[0]?.what.method ?? undefined) }, latencyMs / 1000);
  if (forwarded) {
    metrics.upstreamDuration.observe({ status: String(forwarded.status) }, forwarded.upstreamMs / 1000);
    if (forwarded.endedBy === 'upstream') metrics.upstreamErrors.inc({ kind: 'reset' });
  }
  if (error instanceof GatewayError) {
    const kind = {
      upstream_unreachable: 'unreachable',
      upstream_timeout: 'timeout',
      upstream_auth_failed: 'auth_failed',
      upstream_credential_unavailable: 'credential_unavailable',
      upstream_credential_refused: 'credential_refused',
    }[error.code as string];
    if (kind) metrics.upstreamErrors.inc({ kind });
  }
}
