/**
 * Start-up (spawn → "gateway listening" log line → first /readyz 200, the
 * JWKS already being served locally, so its fetch costs ~1 ms) and the
 * 10,000-rule policy micro-benchmark (bench/policy-decide.ts), both on the
 * server CPU while nothing else runs there.
 */
import type { BenchContext } from '../harness/context.js';
import { startGateway } from '../harness/gateway-process.js';
import { nodeTs, parseResultLine, runToCompletion } from '../harness/processes.js';
import { median } from '../harness/stats.js';
import type { PolicyBenchResult } from '../policy-decide.js';

export interface StartupResult {
  runs: number;
  listeningMs: number;
  readyMs: number;
  samples: Array<{ listeningMs: number; readyMs: number }>;
}

export async function runStartup(ctx: BenchContext): Promise<StartupResult> {
  const samples: StartupResult['samples'] = [];
  for (let run = 0; run < ctx.options.startupRuns; run += 1) {
    const gateway = await startGateway(ctx.pinning.server, ctx.gatewayConfigFile);
    samples.push({ listeningMs: gateway.ready.listeningMs, readyMs: gateway.ready.readyMs });
    await gateway.stop();
  }
  const result = { runs: samples.length, listeningMs: median(samples.map((s) => s.listeningMs)), readyMs: median(samples.map((s) => s.readyMs)), samples };
  ctx.log(`  spawn → listening ${result.listeningMs.toFixed(0)} ms, → /readyz 200 ${result.readyMs.toFixed(0)} ms (median of ${result.runs})`);
  return result;
}

export async function runPolicy(ctx: BenchContext): Promise<PolicyBenchResult> {
  const args = ['--json', ...(ctx.options.quick ? ['--rounds', '9', '--per-round', '10000'] : [])];
  const result = parseResultLine<PolicyBenchResult>(await runToCompletion(ctx.pinning.server, nodeTs('policy-decide.ts', args)));
  ctx.log(`  ${result.rules} rules compiled in ${result.compileMs} ms`);
  for (const [name, ns] of Object.entries(result.medianNs)) ctx.log(`  ${name.padEnd(24)} ${(ns / 1000).toFixed(2)} µs median`);
  return result;
}
