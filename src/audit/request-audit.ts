import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/index.js';
import { GatewayError } from '../errors/index.js';
import type { JsonRpcBody, JsonRpcMessage } from '../jsonrpc/index.js';
import { idKey, type Decision, type RuleRef } from '../policy/index.js';
import { AUDIT_SCHEMA, type AuditEvent, type AuditRecord, type OutcomeResult } from './audit-record.js';
import type { ResponseOutcome } from './json-outcome-scanner.js';
import type { RedactedArguments } from './redact.js';

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
export function buildAuditRecords(facts: RequestFacts, redactArguments: ((value: unknown) => RedactedArguments) | undefined): AuditRecord[] {
  const error = facts.error instanceof GatewayError ? facts.error : facts.error ? new GatewayError('internal') : undefined;
  const errorCode = error?.code;
  const time = facts.time.toISOString();

  if (!facts.principal) {
    const reason = authenticationFailureReason(error);
    if (reason === undefined) {
      // Refused before authentication for another reason (Origin, Host): no caller to name.
      return [newRecord(facts, time, 'request.rejected', { status: facts.status, result: 'rejected', errorCode })];
    }
    const record = newRecord(facts, time, 'authentication.failure', { status: facts.status, result: 'rejected', errorCode, reason });
    if (facts.refusedTokenFingerprint) record.presentedToken = { fingerprint: facts.refusedTokenFingerprint };
    return [record];
  }

  const who = buildWho(facts.principal);
  if (!facts.body || !facts.decisions) {
    // Nothing was decided: a GET/DELETE, or a POST refused before its messages could be.
    const event = facts.httpMethod === 'POST' || error ? 'request.rejected' : 'http.stream';
    const result = error ? (isUpstreamFailure(error) ? 'upstream_failed' : 'rejected') : streamResult(facts);
    return [withUpstream(facts, newRecord(facts, time, event, { status: facts.status, result, errorCode }, who))];
  }

  const decisions = facts.decisions;
  return facts.body.messages.map((message, index) => {
    const decision = decisions[index];
    const record = newRecord(facts, time, 'mcp.message', messageOutcome(facts, message, decision, error), who, describeMessage(facts.httpMethod, message, decision, redactArguments));
    if (decision) record.decision = describeDecision(decision, facts.policyVersion);
    return withUpstream(facts, record);
  });
}

/**
 * One record, its members in the order a reader scans them. Every record has
 * the same shape: absent members are `undefined`, which JSON leaves out (and
 * which spares the request path the object spreads that dominated its cost).
 */
function newRecord(facts: RequestFacts, time: string, event: AuditEvent, outcome: AuditRecord['outcome'], who?: AuditRecord['who'], what?: AuditRecord['what']): AuditRecord {
  return {
    schema: AUDIT_SCHEMA,
    time,
    eventId: randomUUID(),
    event,
    requestId: facts.requestId,
    sessionId: facts.sessionId,
    traceId: facts.traceId,
    who,
    source: facts.source,
    what: what ?? { httpMethod: facts.httpMethod },
    decision: undefined,
    outcome,
    latencyMs: round(facts.latencyMs),
    upstreamMs: undefined,
    upstream: undefined,
    presentedToken: undefined,
  };
}

/** For calls sent (or about to be sent) upstream: its answer time and the gateway's credential. */
function withUpstream(facts: RequestFacts, record: AuditRecord): AuditRecord {
  if (facts.forward) record.upstreamMs = round(facts.forward.upstreamMs);
  if (facts.serviceIdentity) record.upstream = { credential: facts.serviceIdentity };
  return record;
}

/**
 * Why a request without a caller failed authentication (expired, wrong_audience, missing_token…),
 * or undefined when it was refused for another reason before authentication (Origin, Host).
 * Audit records and the token-failure metric both read it from here.
 */
export function authenticationFailureReason(error: unknown): string | undefined {
  if (!(error instanceof GatewayError)) return undefined;
  switch (error.code) {
    case 'token_missing':
      return error.tokenRejection ?? 'missing_token';
    case 'token_invalid':
    case 'token_in_query':
    case 'credentials_ambiguous':
    // A presented token that could not be checked (introspection endpoint down): an authentication failure, not a caller.
    case 'introspection_unavailable':
      return error.tokenRejection ?? error.code;
    default:
      return undefined;
  }
}

/**
 * The `who` of a principal's records. A principal comes from the verified-token cache, the same
 * object for every request with that token, so its `who` is built once (and frozen: records share it).
 */
export function buildWho(principal: Principal): NonNullable<AuditRecord['who']> {
  let who = whoByPrincipal.get(principal);
  if (!who) {
    who = Object.freeze({
      issuer: principal.issuer,
      subject: principal.subject,
      ...(principal.clientId ? { clientId: principal.clientId } : {}),
      authMethod: principal.authenticationMethod,
      tokenFingerprint: principal.tokenFingerprint,
      scopes: Object.freeze([...principal.scopes]),
    });
    whoByPrincipal.set(principal, who);
  }
  return who;
}

const whoByPrincipal = new WeakMap<Principal, NonNullable<AuditRecord['who']>>();

function describeMessage(httpMethod: string, message: JsonRpcMessage, decision: Decision | undefined, redact: ((value: unknown) => RedactedArguments) | undefined): AuditRecord['what'] {
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
    rules: decision.rules.map(describeRule),
    // A decision is not changed once made, and the record is serialized at once: no copies.
    requiredScopes: decision.requiredScopes,
    missingScopes: decision.missingScopes,
    failedConditions: decision.failedConditions.length > 0 ? decision.failedConditions : undefined,
    policyVersion: policyVersion ?? 'unknown',
  };
}

/** A rule as records name it; rule references live as long as their compiled policy, so each is described once. */
function describeRule(ref: RuleRef): AuditRuleRef {
  let described = ruleByRef.get(ref);
  if (!described) {
    const { kind, pattern, id, file, line } = ref;
    described = Object.freeze({ kind, pattern, ...(id ? { id } : {}), file, ...(line ? { line } : {}) });
    ruleByRef.set(ref, described);
  }
  return described;
}

type AuditRuleRef = NonNullable<AuditRecord['decision']>['rules'][number];
const ruleByRef = new WeakMap<RuleRef, AuditRuleRef>();

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
  if (outcome) return outcome.result === 'jsonrpc_error' ? { status, result: outcome.result, errorCode: outcome.errorCode } : { status, result: outcome.result };
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

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
