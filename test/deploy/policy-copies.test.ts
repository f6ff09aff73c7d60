/**
 * The policies the deployment assets ship: copies of policies/ (kustomize and Helm cannot read
 * files outside their directory) kept up to date by `npm run generate`, and the baseline that
 * the sidecar component and the Helm chart use by default, checked with its own test cases.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicyDirectory, parsePolicyTests, runPolicyTests } from '../../src/policy/index.js';
import { policyCopies, policyCopyDirectories } from '../../scripts/policy-copies.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('policy copies in deploy/', () => {
  it.each(Object.entries(policyCopies()))('%s is up to date (run `npm run generate`)', (path, content) => {
    expect(readFileSync(`${ROOT}${path}`, 'utf8')).toBe(content);
  });

  it.each(policyCopyDirectories())('%s holds nothing but copies', (dir) => {
    const expected = Object.keys(policyCopies()).filter((path) => path.startsWith(`${dir}/`));
    expect(readdirSync(`${ROOT}${dir}`).map((name) => `${dir}/${name}`).sort()).toEqual(expected.sort());
  });
});

describe('the baseline policy (policies/baseline)', () => {
  it('loads without a warning and passes policies/tests/baseline.test.yaml', async () => {
    const { policy, findings } = await loadPolicyDirectory(`${ROOT}policies/baseline`);
    expect(findings).toEqual([]);
    expect(policy.challengeScopes).toEqual(['mcp:tools']);
    const file = `${ROOT}policies/tests/baseline.test.yaml`;
    const results = runPolicyTests(policy, parsePolicyTests(readFileSync(file, 'utf8'), file).tests);
    expect(results.filter((result) => result.failures.length > 0)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(5);
  });
});
