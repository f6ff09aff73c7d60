/**
 * This build against another build of the gateway (`--baseline DIR`, a checkout of another commit
 * with its `dist/` built), in paired rounds (harness/paired.ts): both gateways, with the same
 * configuration (audit on, async writes), loaded at the same time. This is how a change to the
 * request path is measured: on a shared VM, rounds run one after the other scatter more than most
 * changes gain.
 */
import type { BenchContext } from '../harness/context.js';
import { runLoad } from '../harness/load-generator.js';
import { runPaired, summarizeRatios, type PairedRatio } from '../harness/paired.js';
import type { Payload } from './saturation.js';

export interface BaselineRow extends PairedRatio {
  payload: Payload;
}

export interface BaselineResult {
  /** The baseline checkout. */
  directory: string;
  /** req/s of this build ÷ req/s of the baseline build, per payload. */
  rows: BaselineRow[];
}

export async function runBaselineComparison(ctx: BenchContext, baselineUrl: string, directory: string): Promise<BaselineResult> {
  const { options } = ctx;
  const payloads: Payload[] = options.quick ? ['json'] : ['json', 'sse'];
  const run = (url: string, payload: Payload, durationSeconds: number) =>
    runLoad(ctx.generator, { url, connections: options.connections, durationSeconds, mode: payload, tokenFile: ctx.tokenFiles.one }, ctx.pinning.client, ctx.workDir);

  for (const payload of payloads) await Promise.all([run(baselineUrl, payload, options.warmupSeconds), run(ctx.urls.gateway, payload, options.warmupSeconds)]);
  const ratios = new Map<Payload, number[]>(payloads.map((payload) => [payload, []]));
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const payload of payloads) {
      const pair = await runPaired(round, () => run(baselineUrl, payload, options.durationSeconds), () => run(ctx.urls.gateway, payload, options.durationSeconds));
      ratios.get(payload)!.push(pair.ratio);
      ctx.log(`  r${round} baseline + this build ${payload.padEnd(4)} ${pair.baseline.rps.toFixed(0).padStart(6)} + ${pair.measured.rps.toFixed(0).padStart(6)} req/s  ratio ${pair.ratio.toFixed(3)}`);
    }
  }
  return { directory, rows: [...ratios].map(([payload, values]) => ({ payload, ...summarizeRatios(values) })) };
}
