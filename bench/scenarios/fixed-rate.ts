/**
 * Added latency at a fixed low rate (~300 requests/s on one keep-alive
 * connection, one token): each target's p50 and p99 minus the upstream's own,
 * per round, medians over rounds. The client is ours (bench/clients/paced-client.ts)
 * because wrk has no fixed-rate mode and wrk2 is not packaged in Debian.
 */
import type { PacedResult, PacedSpec } from '../clients/paced-client.js';
import { TARGETS, type BenchContext, type TargetName } from '../harness/context.js';
import { nodeTs, parseResultLine, runToCompletion } from '../harness/processes.js';
import { median } from '../harness/stats.js';

export interface FixedRateSummary {
  target: TargetName;
  payload: 'json' | 'sse';
  p50Ms: number;
  p99Ms: number;
  /** Over the upstream direct, per round, median over rounds. */
  addedP50Ms: number;
  addedP99Ms: number;
  late: number;
  errors: number;
}

export async function runFixedRate(ctx: BenchContext): Promise<{ rounds: Array<Record<string, Record<string, PacedResult>>>; summary: FixedRateSummary[] }> {
  const { options } = ctx;
  const rounds: Array<Record<string, Record<string, PacedResult>>> = [];
  for (let round = 1; round <= options.rateRounds; round += 1) {
    const order = TARGETS.map((_, index) => TARGETS[(index + round - 1) % TARGETS.length]!);
    const byPayload: Record<string, Record<string, PacedResult>> = {};
    for (const payload of options.ratePayloads) {
      const spec: PacedSpec = {
        targets: order.map((name) => ({ name, url: ctx.urls[name] })),
        mode: payload,
        rate: options.rate,
        durationSeconds: options.rateSeconds,
        warmupSeconds: Math.min(2, options.rateSeconds / 2),
        tokenFile: ctx.tokenFiles.one,
      };
      byPayload[payload] = parseResultLine<Record<string, PacedResult>>(await runToCompletion(ctx.pinning.client, nodeTs('clients/paced-client.ts', [JSON.stringify(spec)])));
      for (const name of order) {
        const r = byPayload[payload]![name]!;
        ctx.log(`  r${round} ${name.padEnd(10)} ${payload.padEnd(4)} ${options.rate}/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  max ${r.maxMs.toFixed(2)} ms${r.late ? `  late ${r.late}` : ''}${r.errors || r.non2xx ? `  errors ${r.errors} non-2xx ${r.non2xx}` : ''}`);
      }
    }
    rounds.push(byPayload);
  }

  const summary: FixedRateSummary[] = [];
  for (const payload of options.ratePayloads) {
    for (const target of TARGETS) {
      const mine = rounds.map((round) => ({ target: round[payload]![target]!, direct: round[payload]!.direct! }));
      summary.push({
        target,
        payload,
        p50Ms: median(mine.map((m) => m.target.p50Ms)),
        p99Ms: median(mine.map((m) => m.target.p99Ms)),
        addedP50Ms: median(mine.map((m) => m.target.p50Ms - m.direct.p50Ms)),
        addedP99Ms: median(mine.map((m) => m.target.p99Ms - m.direct.p99Ms)),
        late: mine.reduce((sum, m) => sum + m.target.late, 0),
        errors: mine.reduce((sum, m) => sum + m.target.errors + m.target.non2xx, 0),
      });
    }
  }
  return { rounds, summary };
}
