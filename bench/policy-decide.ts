/**
 * Micro-benchmark of policy decisions on a 10,000-rule policy (issue targets:
 * < 2 µs median for an exact tool name, < 10 µs with globs). Run:
 *   npx tsx bench/policy-decide.ts [--rounds N] [--per-round N] [--json]
 * Part of `npm run bench` (which reads the `--json` form); never a pass/fail test.
 */
import type { JsonRpcMessage } from '../src/jsonrpc/index.js';
import { parsePolicyFiles } from '../src/policy/index.js';

export interface PolicyBenchResult {
  rules: number;
  compileMs: number;
  medianNs: Record<string, number>;
}

export function runPolicyBench({ rules = 10_000, rounds = 25, perRound = 20_000 } = {}): PolicyBenchResult {
  const exact = Math.floor(rules / 2);
  const globs = rules - exact;
  let text = 'scopes:\n';
  for (let team = 0; team < 100; team += 1) text += `  team${team}:read: r\n  team${team}:write: w\n`;
  text += 'scopeHierarchy:\n';
  for (let team = 0; team < 100; team += 1) text += `  team${team}:write: [team${team}:read]\n`;
  text += 'tools:\n';
  for (let i = 0; i < exact; i += 1) text += `  - name: tool_${String(i).padStart(5, '0')}\n    scopes: [team${i % 100}:read]\n`;
  for (let i = 0; i < globs; i += 1) {
    text += `  - name: "svc${String(i).padStart(5, '0')}_*"\n    scopes: [team${i % 100}:write]\n    when:\n      groups: { contains: g${i % 7} }\n`;
  }

  const started = performance.now();
  const { policy } = parsePolicyFiles([{ file: 'bench.yaml', text }]);
  const compileMs = performance.now() - started;

  const caller = { scopes: new Set(['team42:write', 'team7:read']), claims: { groups: ['g0', 'g3'] } };
  const call = (name: string): JsonRpcMessage => ({ kind: 'request', id: 1, method: 'tools/call', params: { name, arguments: {} } });
  const cases: Record<string, JsonRpcMessage[]> = {
    'exact name (allowed)': [call('tool_00042'), call('tool_04907'), call('tool_00142')],
    'exact name (denied)': [call('tool_00043')],
    'glob (allowed)': [call('svc00042_deploy'), call('svc00742_restart')],
    'glob (claim denied)': [call('svc00044_x')],
    'unmatched name': [call('nothing_matches_this')],
  };

  const medianNs: Record<string, number> = {};
  for (const [name, messages] of Object.entries(cases)) {
    const samples: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i += 1) policy.decide(messages[i % messages.length]!, caller);
      samples.push(Number(process.hrtime.bigint() - start) / perRound);
    }
    samples.sort((a, b) => a - b);
    medianNs[name] = Math.round(samples[Math.floor(samples.length / 2)]!);
  }
  return { rules, compileMs: Math.round(compileMs), medianNs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const option = (name: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? Number(process.argv[index + 1]) : undefined;
  };
  const result = runPolicyBench({ rounds: option('rounds') ?? 25, perRound: option('per-round') ?? 20_000 });
  if (process.argv.includes('--json')) {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  }
  console.log(`policy with ${result.rules} rules compiled in ${result.compileMs} ms`);
  for (const [name, ns] of Object.entries(result.medianNs)) console.log(`  ${name.padEnd(24)} ${(ns / 1000).toFixed(2)} µs median`);
}
