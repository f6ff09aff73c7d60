import type { RuleRef } from '../policy/index.js';

/** Version of the audit record format; documented in docs/audit.md. Bump on an incompatible change. */
export const AUDIT_SCHEMA = 'mcp-auth-gateway.audit/v1';

export type AuditEvent =
  /** A JSON-RPC message that was decided (allowed, denied, shadow-denied) and, if forwarded, answered. */
  | 'mcp.message'
  /** A request whose token was missing or refused. */
  | 'authentication.failure'
  /** A request refused before any message could be decided (bad JSON, too large, header mismatch…). */
  | 'request.rejected'
  /** A GET (SSE listen stream) or DELETE (end session) on the MCP endpoint. */
  | 'http.stream'
  /** A client came back with broader scopes after a 403 insufficient_scope challenge. */
  | 'scope.elevation';

export type OutcomeResult =
  | 'success'
  | 'tool_error'
  | 'jsonrpc_error'
  | 'accepted'
  | 'denied'
  | 'rejected'
  | 'upstream_failed'
  | 'no_response'
  | 'client_closed';

/** One audit record: who did what, when, what was decided on which basis, and what happened. */
export interface AuditRecord {
  schema: typeof AUDIT_SCHEMA;
  /** ISO 8601, UTC. */
  time: string;
  eventId: string;
  event: AuditEvent;
  /** Shared by every record of one HTTP request (X-Request-Id when the client sent a sane one). */
  requestId: string;
  sessionId?: string;
  traceId?: string;
  who?: {
    issuer: string;
    subject: string;
    clientId?: string;
    authMethod: string;
    /** First 12 characters of the token's SHA-256 (base64url): correlates requests, reveals nothing. */
    tokenFingerprint: string;
    scopes: readonly string[];
  };
  source: { ip?: string; userAgent?: string };
  what: {
    httpMethod: string;
    jsonrpcId?: string | number | null;
    method?: string;
    target?: { kind: string; name: string };
    /** Tool or prompt arguments, redacted and size-capped. */
    arguments?: unknown;
  };
  decision?: {
    effect: 'allow' | 'deny' | 'shadow-deny';
    reason: string;
    rules: Array<Pick<RuleRef, 'kind' | 'pattern' | 'id' | 'file' | 'line'>>;
    requiredScopes: readonly string[];
    missingScopes: readonly string[];
    failedConditions?: readonly string[];
    policyVersion: string;
  };
  outcome: {
    status: number;
    result: OutcomeResult;
    errorCode?: number | string;
    /** Why authentication failed (expired, wrong_audience, bad_signature, …). */
    reason?: string;
  };
  /** For calls sent (or about to be sent) upstream: the gateway's own credential towards it (never a token). With `who`, the three identities of the call: user, agent, service. */
  upstream?: { credential: Record<string, unknown> };
  latencyMs: number;
  upstreamMs?: number;
  /** For authentication.failure: the refused token's fingerprint (never the token). */
  presentedToken?: { fingerprint: string };
  /** For scope.elevation: the eventId of the 403 challenge it answers. */
  correlatesWith?: string;
  elevation?: { previousScopes: readonly string[]; scopes: readonly string[]; requestedScopes: readonly string[] };
}
