import { z } from 'zod';
import type { ClaimMapping } from '../auth/index.js';
import { formatKeyPath, parseYamlSource, type SourceIssue } from '../config/index.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { callerFromClaims, explainDecision, parseRequestInput } from './explain.js';

/** A `policy test` file: cases a platform team keeps next to its policy and runs in its CI. */
export const policyTestFileSchema = z.strictObject({
  $schema: z.string().optional(),
  tests: z
    .array(
      z.strictObject({
        name: z.string().min(1).describe('What the case checks.'),
        claims: z.record(z.string(), z.unknown()).describe('Token claims: scope or scp, sub, client_id, groups, …'),
        request: z.unknown().describe('A JSON-RPC message (jsonrpc and id may be left out).'),
        expect: z.enum(['allow', 'deny', 'shadow-deny']),
        reason: z.string().optional().describe('Expected decision reason, e.g. insufficient_scope, claim_condition, unmatched.'),
        challengeScopes: z.array(z.string()).optional().describe('Expected scope of the 403 challenge.'),
        status: z.int().optional().describe('Expected HTTP status of the denial.'),
        rule: z.string().optional().describe('Expected deciding rule: its id or its pattern.'),
      }),
    )
    .min(1),
});

export interface PolicyTestResult {
  name: string;
  passed: boolean;
  failures: string[];
}

export class PolicyTestFileError extends Error {
  override readonly name = 'PolicyTestFileError';
  constructor(readonly issues: SourceIssue[]) {
    super(issues.map((issue) => `${issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.column}: ` : ''}${issue.path}: ${issue.message}`).join('\n'));
  }
}

/** Parses a test file (YAML) with located errors. */
export function parsePolicyTests(text: string, file: string): z.output<typeof policyTestFileSchema> {
  const source = parseYamlSource(text, file);
  if (source.syntaxIssues.length > 0) throw new PolicyTestFileError(source.syntaxIssues);
  const result = policyTestFileSchema.safeParse(source.document.toJS());
  if (result.success) return result.data;
  throw new PolicyTestFileError(
    result.error.issues.map((issue) => ({ location: source.locate(issue.path), path: formatKeyPath(issue.path), message: issue.message })),
  );
}

export interface PolicyTestOptions {
  /**
   * The gateway config's issuers and their claim mappings (`policy test --config`): each case's
   * claims are read through the mapping of the issuer its `iss` names, and a case whose `iss` is
   * not listed fails, as the gateway would refuse its token. Without it, the standard claims.
   */
  issuers?: ReadonlyMap<string, ClaimMapping>;
}

/** Runs every case against the policy. */
export function runPolicyTests(policy: CompiledPolicy, cases: z.output<typeof policyTestFileSchema>['tests'], options: PolicyTestOptions = {}): PolicyTestResult[] {
  return cases.map((testCase) => {
    const failures: string[] = [];
    try {
      const iss = typeof testCase.claims.iss === 'string' ? testCase.claims.iss : undefined;
      const mapping = iss === undefined ? undefined : options.issuers?.get(iss);
      if (options.issuers && !mapping) {
        failures.push(`claims iss (${iss ?? 'missing'}) is not an authorizationServers issuer in the config: the gateway would refuse this token`);
        return { name: testCase.name, passed: false, failures };
      }
      const caller = callerFromClaims(testCase.claims, mapping);
      const explanation = explainDecision(policy, caller, parseRequestInput(testCase.request), { resourceMetadataUrl: 'https://gateway.invalid/prm' });
      if (explanation.effect !== testCase.expect) failures.push(`expected ${testCase.expect}, got ${explanation.effect}`);
      const reasons = explanation.decisions.map((decision) => decision.reason);
      if (testCase.reason && !reasons.includes(testCase.reason as never)) failures.push(`expected reason ${testCase.reason}, got ${reasons.join(', ')}`);
      if (testCase.status !== undefined && explanation.response?.status !== testCase.status) {
        failures.push(`expected HTTP ${testCase.status}, got ${explanation.response?.status ?? 'no denial'}`);
      }
      if (testCase.challengeScopes) {
        const scope = /scope="([^"]*)"/.exec(explanation.response?.wwwAuthenticate ?? '')?.[1];
        const actual = scope === undefined ? undefined : scope.split(' ').filter(Boolean).sort();
        const expected = [...testCase.challengeScopes].sort();
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          failures.push(`expected challenge scopes [${expected.join(' ')}], got ${actual ? `[${actual.join(' ')}]` : 'no challenge'}`);
        }
      }
      if (testCase.rule) {
        const rules = explanation.decisions.flatMap((decision) => decision.rules);
        if (!rules.some((rule) => rule.id === testCase.rule || rule.pattern === testCase.rule)) {
          failures.push(`expected rule ${testCase.rule}, got ${rules.map((rule) => rule.id ?? rule.pattern).join(', ') || 'none'}`);
        }
      }
    } catch (error) {
      failures.push(`error: ${(error as Error).message}`);
    }
    return { name: testCase.name, passed: failures.length === 0, failures };
  });
}
