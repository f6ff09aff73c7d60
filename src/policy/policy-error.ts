import { formatSourceIssue, type SourceIssue } from '../config/index.js';

/** A problem found in policy files: an error keeps the policy from loading, a warning does not. */
export interface PolicyFinding extends SourceIssue {
  severity: 'error' | 'warning';
}

/** A policy that cannot be used. Every error carries file:line:column; `message` is printable as is. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly findings: readonly PolicyFinding[];

  constructor(findings: readonly PolicyFinding[]) {
    super(findings.map(formatFinding).join('\n'));
    this.findings = findings;
  }
}

export function formatFinding(finding: PolicyFinding): string {
  return `${finding.severity}: ${formatSourceIssue(finding)}`;
}
