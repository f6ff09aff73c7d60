import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/index.js';
import { GatewayError } from '../errors/index.js';
import type { JsonRpcBody, JsonRpcMessage } from '../jsonrpc/index.js';
import { idKey, type Decision } from '../policy/index.js';
import { AUDIT_SCHEMA, type AuditRecord, type OutcomeResult } from './audit-record.js';
import type { ResponseOutcome } from './json-outcome-scanner.js';

/** Everything known about one HTTP request once its response has ended. */
export interface RequestFacts {
  requestId: string;
  time: Date;
  latencyMs: number;
  httpMethod: string;
  sessionId: string | undefined;
  traceId: string | undefined;
  source: { ip?: string; userAgent?: string };
  principal: Principal | undefined;
  /** Fingerprint of a token that was presented but refused. */
  refusedTokenFingerprint: string | undefined;
  /** The error that produced the response, when the gateway answered itself. */
  error: unknown;
  status: number;
  body: JsonRpcBody | undefined;
  decisions: readonly Decision[] | undefined;
  policyVersion: string | undefined;
  forward: { status: number; upstreamMs: number; endedBy: 'complete' | 'client' | 'upstream' } | undefined;
  /** Outcomes read from the response, by JSON-RPC id (see `idKey`). */
  outcomes: ReadonlyMap<string, ResponseOutcome>;
  /** The gateway's credential used (or to be used) upstream, when the call got that far. */
  serviceIdentity: Record<string, unknown> | undefined;
}

/**
 * Turns a finished request into its audit records: one per JSON-RPC message
 * decided; otherwise one for the request (authentication failure, rejected
 * input, a GET stream or a DELETE). Pure: the caller writes them.
 */
export function buildAuditRecords(facts: RequestFacts, redactArguments: ((value: unknown) => unknown) | undefined): AuditRecord[] {
  const base = baseRecord(facts);
  const error = facts.error instanceof GatewayError ? facts.error : facts.error ? new GatewayError('internal') : undefined;

  const tokenError =
    error?.code === 'token_missing' ||
    error?.code === 'token_invalid' ||
    error?.code === 'token_in_query' ||
    error?.code === 'credentials_ambiguous' ||
    // A presented token that could not be checked (introspection endpoint down): an authentication failure, not a caller.
    error?.code === 'introspection_unavailable';
  if (!facts.principal && !tokenError) {
    // Refused before authentication for another reason (Origin, Host): no caller to name.
    return [{ ...base, event: 'request.rejected', outcome: { status: facts.status, result: 'rejected', ...(error ? { errorCode: error.code } : {}) } }];
  }
  if (!facts.principal) {
    return [
      {
        ...base,
        event: 'authentication.failure',
        outcome: {
          status: facts.status,
          result: 'rejected',
          reason: error?.tokenRejection ?? (error?.code === 'token_missing' ? 'missing_token' : (error?.code ?? 'unknown')),
          ...(error ? { errorCode: error.code } : {}),
        },
        ...(facts.refusedTokenFingerprint ? { presentedToken: { fingerprint: facts.refusedTokenFingerprint } } : {}),
      },
    ];
  }

  const who = buildWho(facts.principal);
  if (!facts.body || !facts.decisions) {
    // Nothing was decided: a GET/DELETE, or a POST refused before its messages could be.
    const event = facts.httpMethod === 'POST' || error ? 'request.rejected' : 'http.stream';
    return [
      {
        ...base,
        event,
        who,
        outcome: {
          status: facts.status,
          result: error ? (isUpstreamFailure(error) ? 'upstream_failed' : 'rejected') : streamResult(facts),
          ...(error ? { errorCode: error.code } : {}),
        },
        ...upstreamTime(facts),
        ...serviceIdentity(facts),
      },
    ];
  }

  return facts.body.messages.map((message, index) => {
    const decision = facts.decisions![index];
    return {
      ...base,
      eventId: index === 0 ? base.eventId : randomUUID(),
      event: 'mcp.message',
      who,
      what: describeMessage(facts.httpMethod, message, decision, redactArguments),
      ...(decision ? { decision: describeDecision(decision, facts.policyVersion) } : {}),
      outcome: messageOutcome(facts, message, decision, error),
      ...upstreamTime(facts),
      ...serviceIdentity(facts),
    };
  });
}

function baseRecord(facts: RequestFacts): AuditRecord {
  return {
    schema: AUDIT_SCHEMA,
    time: facts.time.toISOString(),
    eventId: randomUUID(),
    event: 'mcp.message',
    requestId: facts.requestId,
    ...(facts.sessionId ? { sessionId: facts.sessionId } : {}),
    ...(facts.traceId ? { traceId: facts.traceId } : {}),
    source: facts.source,
    what: { httpMethod: facts.httpMethod },
    outcome: { status: facts.status, result: 'rejected' },
    latencyMs: round(facts.latencyMs),
  };
}

export function buildWho(principal: Principal): NonNullable<AuditRecord['who']> {
  return {
    issuer: principal.issuer,
    subject: principal.subject,
    ...(principal.clientId ? { clientId: principal.clientId } : {}),
    authMethod: principal.authenticationMethod,
    tokenFingerprint: principal.tokenFingerprint,
    scopes: [...principal.scopes],
  };
}

function describeMessage(httpMethod: string, message: JsonRpcMessage, decision: Decision | undefined, redact: ((value: unknown) => unknown) | undefined): AuditRecord['what'] {
  const what: AuditRecord['what'] = { httpMethod };
  if (message.kind !== 'notification') what.jsonrpcId = message.id;
  if (message.kind === 'response') return what;
  what.method = message.method;
  if (decision?.target) what.target = { kind: decision.target.kind, name: decision.target.name };
  const args = (message.params as { arguments?: unknown } | undefined)?.arguments;
  if (redact && args !== undefined && (message.method === 'tools/call' || message.method === 'prompts/get')) {
    what.arguments = redact(args);
  }
  return what;
}

function describeDecision(decision: Decision, policyVersion: string | undefined): NonNullable<AuditRecord['decision']> {
  return {
    effect: decision.effect,
    reason: decision.reason,
    rules: decision.rules.map(({ kind, pattern, id, file, line }) => ({ kind, pattern, ...(id ? { id } : {}), file, ...(line ? { line } : {}) })),
    requiredScopes: [...decision.requiredScopes],
    missingScopes: [...decision.missingScopes],
    ...(decision.failedConditions.length > 0 ? { failedConditions: [...decision.failedConditions] } : {}),
    policyVersion: policyVersion ?? 'unknown',
  };
}

function messageOutcome(facts: RequestFacts, message: JsonRpcMessage, decision: Decision | undefined, error: GatewayError | undefined): AuditRecord['outcome'] {
  const status = facts.status;
  if (error) {
    const denied = error.code === 'insufficient_scope' || error.code === 'access_denied' || error.code === 'denied_in_band';
    const result: OutcomeResult = denied ? 'denied' : isUpstreamFailure(error) ? 'upstream_failed' : 'rejected';
    return { status, result, errorCode: error.code };
  }
  if (decision?.effect === 'deny') return { status, result: 'denied' };
  if (message.kind !== 'request') return { status, result: status < 300 ? 'accepted' : 'rejected' };
  const outcome = facts.outcomes.get(idKey(message.id));
  if (outcome) return { status, ...outcome };
  if (facts.forward?.endedBy === 'client') return { status, result: 'client_closed' };
  if (facts.forward?.endedBy === 'upstream') return { status, result: 'upstream_failed' };
  return { status, result: status >= 400 ? 'rejected' : 'no_response' };
}

function streamResult(facts: RequestFacts): OutcomeResult {
  if (facts.forward?.endedBy === 'client') return 'client_closed';
  if (facts.forward?.endedBy === 'upstream') return 'upstream_failed';
  return facts.status < 400 ? 'success' : 'rejected';
}

function isUpstreamFailure(error: GatewayError): boolean {
  return (
    error.code === 'upstream_unreachable' ||
    error.code === 'upstream_timeout' ||
    error.code === 'upstream_auth_failed' ||
    error.code === 'upstream_credential_unavailable' ||
    error.code === 'upstream_credential_refused'
  );
}

function serviceIdentity(facts: RequestFacts): { upstream?: { credential: Record<string, unknown> } } {
  return facts.serviceIdentity ? { upstream: { credential: facts.serviceIdentity } } : {};
}

function upstreamTime(facts: RequestFacts): { upstreamMs?: number } {
  return facts.forward ? { upstreamMs: round(facts.forward.upstreamMs) } : {};
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
