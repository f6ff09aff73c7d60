import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { authenticationFailureReason, buildAuditRecords, buildWho, type AuditLog, type RedactedArguments, type ResponseOutcome, type ScopeElevationTracker } from '../../audit/index.js';
import type { Principal } from '../../auth/index.js';
import type { JsonRpcBody } from '../../jsonrpc/index.js';
import type { Decision } from '../../policy/index.js';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { methodLabel, type GatewayMetrics } from '../../metrics/index.js';
import { RequestTrace, type OtlpExporter } from '../../tracing/index.js';
import { headerOf, type McpExchange } from './exchange.js';
import type { RequestObservation } from './observation.js';
import { principalKey } from './abuse-limits.js';

export interface ObservabilityDependencies {
  audit: AuditLog | undefined;
  redactArguments: ((value: unknown) => RedactedArguments) | undefined;
  metrics: GatewayMetrics | undefined;
  exporter: OtlpExporter | undefined;
  sampleRatio: number;
  elevation: ScopeElevationTracker;
  logger: Logger;
}

/** A client's X-Request-Id is reused when it is short and plain; otherwise a new id is made. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Opens a request's observation, first thing on the MCP endpoint. */
export function openObservation(incoming: IncomingMessage, deps: ObservabilityDependencies): RequestObservation {
  const incomingId = headerOf(incoming, 'x-request-id');
  return {
    requestId: incomingId && REQUEST_ID.test(incomingId) ? incomingId : randomUUID(),
    startedAt: performance.now(),
    time: new Date(),
    trace: new RequestTrace(headerOf(incoming, 'traceparent'), deps.exporter, deps.sampleRatio),
    // Outcomes are read from the response for the audit records only.
    outcomes: deps.audit ? new Map() : undefined,
  };
}

/**
 * Last thing on the MCP endpoint, once the response has ended (streams
 * included): writes the request's audit records, metrics and trace. It runs for
 * every outcome (success, denial, bad input, upstream failure, client gone), so
 * no answered request goes unrecorded.
 */
export function recordExchange(exchange: McpExchange, deps: ObservabilityDependencies): void {
  const { observation } = exchange;
  const latencyMs = performance.now() - observation.startedAt;
  const forwarded = observation.forward;
  const status = forwarded?.status ?? exchange.outgoing.statusCode;
  const facts: MetricFacts = {
    httpMethod: exchange.method,
    status,
    latencyMs,
    error: exchange.error,
    principal: exchange.principal,
    body: exchange.rpcBody,
    decisions: exchange.decisions,
    forwarded,
  };
  if (deps.audit) writeAuditRecords(exchange, facts, deps.audit, deps);
  if (deps.metrics) recordMetrics(deps.metrics, facts);
  const method = decidedMethods(facts)?.[0];
  observation.trace.end(
    { 'http.request.method': facts.httpMethod, 'http.response.status_code': status, 'mcp.request_id': observation.requestId, ...(method ? { 'mcp.method': method } : {}) },
    status >= 500,
  );
}

/** What metrics and the trace need to know about a finished request (audit needs more). */
interface MetricFacts {
  httpMethod: string;
  status: number;
  latencyMs: number;
  error: unknown;
  principal: Principal | undefined;
  body: JsonRpcBody | undefined;
  decisions: readonly Decision[] | undefined;
  forwarded: RequestObservation['forward'];
}

/** Only with audit on: building, redacting and writing records is its whole cost (issue 4). */
function writeAuditRecords(exchange: McpExchange, facts: MetricFacts, audit: AuditLog, deps: ObservabilityDependencies): void {
  const { principal, error } = facts;
  const { observation, incoming } = exchange;
  const userAgent = headerOf(incoming, 'user-agent');
  const records = buildAuditRecords(
    {
      requestId: observation.requestId,
      time: observation.time,
      latencyMs: facts.latencyMs,
      httpMethod: facts.httpMethod,
      sessionId: headerOf(incoming, 'mcp-session-id'),
      traceId: observation.trace.traceId,
      source: { ip: incoming.socket.remoteAddress || undefined, userAgent: userAgent || undefined },
      principal,
      refusedTokenFingerprint: observation.refusedTokenFingerprint,
      error,
      status: facts.status,
      body: facts.body,
      decisions: facts.decisions,
      policyVersion: exchange.policy?.version,
      forward: facts.forwarded,
      outcomes: observation.outcomes ?? NO_OUTCOMES,
      serviceIdentity: exchange.upstreamIdentities?.service,
    },
    deps.redactArguments,
  );

  if (principal) {
    const key = principalKey(principal);
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
    audit.write(auditRecord);
    deps.metrics?.auditRecords.inc({ event: auditRecord.event });
  }
}

const NO_OUTCOMES: ReadonlyMap<string, ResponseOutcome> = new Map();

/**
 * The JSON-RPC method of each decided message (undefined for a response), or
 * undefined when nothing was decided: the same messages the audit records describe.
 */
function decidedMethods({ principal, body, decisions }: MetricFacts): Array<string | undefined> | undefined {
  if (!principal || !body || !decisions) return undefined;
  return body.messages.map((message) => (message.kind === 'response' ? undefined : message.method));
}

/** Derived from the request itself, so metrics cost the same with audit on or off. */
function recordMetrics(metrics: GatewayMetrics, facts: MetricFacts): void {
  const statusLabel = String(facts.status);
  metrics.requests.inc({ http_method: facts.httpMethod, status: statusLabel });
  const methods = decidedMethods(facts);
  if (methods) {
    methods.forEach((method, index) => metrics.messages.inc({ method: methodLabel(method), decision: facts.decisions![index]?.effect ?? 'none', status: statusLabel }));
  } else {
    metrics.messages.inc({ method: methodLabel(undefined), decision: 'none', status: statusLabel });
    const failure = facts.principal ? undefined : authenticationFailureReason(facts.error);
    if (failure) metrics.tokenFailures.inc({ reason: failure });
  }
  metrics.requestDuration.observe({ method: methodLabel(methods?.[0]) }, facts.latencyMs / 1000);
  const { forwarded, error } = facts;
  if (forwarded) {
    metrics.upstreamDuration.observe({ status: String(forwarded.status) }, forwarded.upstreamMs / 1000);
    if (forwarded.endedBy === 'upstream') metrics.upstreamErrors.inc({ kind: 'reset' });
  }
  if (error instanceof GatewayError) {
    const kind = UPSTREAM_ERROR_KINDS[error.code as string];
    if (kind) metrics.upstreamErrors.inc({ kind });
  }
}

const UPSTREAM_ERROR_KINDS: Record<string, string> = {
  upstream_unreachable: 'unreachable',
  upstream_timeout: 'timeout',
  upstream_auth_failed: 'auth_failed',
  upstream_credential_unavailable: 'credential_unavailable',
  upstream_credential_refused: 'credential_refused',
};
