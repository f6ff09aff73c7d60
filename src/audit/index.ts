export { AuditLog, type AuditSink } from './audit-log.js';
export { AUDIT_SCHEMA, type AuditEvent, type AuditRecord, type OutcomeResult } from './audit-record.js';
export { JsonOutcomeScanner, type ResponseOutcome } from './json-outcome-scanner.js';
export { createOutcomeTap, type OutcomeTap } from './outcome-tap.js';
export { createRedactor, DEFAULT_SENSITIVE_KEYS, REDACTED, RedactedArguments, type RedactionOptions } from './redact.js';
export { authenticationFailureReason, buildAuditRecords, buildWho, type RequestFacts } from './request-audit.js';
export { ScopeElevationTracker } from './scope-elevation.js';
