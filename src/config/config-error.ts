import { formatSourceIssue, type SourceIssue } from './yaml-source.js';

/**
 * A configuration that cannot be used. Carries every problem found, each with
 * file:line:column and the key path; `message` is what the CLI prints (no stack).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly SourceIssue[];

  constructor(issues: readonly SourceIssue[]) {
    super(issues.map(formatSourceIssue).join('\n'));
    this.issues = issues;
  }
}
