/**
 * Requests per second at saturation (wrk -t1 -cN), every target × JSON and SSE
 * responses × one token and 1,000 distinct tokens, interleaved over rounds
 * (the order rotates each round so no target is always first), medians. The
 * upstream and the bare proxy ignore tokens: they run once per payload and
 * round, and serve as the baseline for both token counts.
 */
import { TARGETS, type BenchContext, type TargetName } from '../harness/context.js';
import { runLoad, type LoadResult } from '../harness/load-generator.js';
import { readPeakRssBytes, resetPeakRss, startCpuWindow } from '../harness/proc-stats.js';
import { runPaired, summarizeRatios, type PairedRatio } from '../harness/paired.js';
import { median, summarizeRuns, type LoadSummary } from '../harness/stats.js';

export type Payload = 'json' | 'sse';
export type TokenCount = '1' | '1000';

export interface SaturationSample extends LoadResult {
  round: number;
  target: TargetName;
  payload: Payload;
  tokens: TokenCount;
  /** CPU of the target's process (share of one CPU), and of the upstream when it is a separate process. */
  targetCpu: number | undefined;
  upstreamCpu: number | undefined;
  /** Other processes' CPU meanwhile (share of one CPU): noise. */
  othersCpu: number | undefined;
  peakRssBytes: number | undefined;
}

export interface SaturationSummary extends LoadSummary {
  target: TargetName;
  payload: Payload;
  tokens: TokenCount;
  peakRssBytes: number | undefined;
  errors: number;
  non2xx: number;
}

/** The gateway against a baseline, both loaded at the same time: req/s of the gateway ÷ req/s of the baseline. */
export interface PairedSaturationRow extends PairedRatio {
  baseline: 'bare-proxy' | 'reference';
  payload: Payload;
  tokens: TokenCount;
}

const PAYLOADS: Payload[] = ['json', 'sse'];

/** Token counts a target is measured with: the proxies that ignore tokens once. */
const tokenCounts = (target: TargetName): TokenCount[] => (target === 'direct' || target === 'bare-proxy' ? ['1'] : ['1', '1000']);

export async function runSaturation(ctx: BenchContext): Promise<{ samples: SaturationSample[]; summary: SaturationSummary[]; paired: PairedSaturationRow[] }> {
  const { options } = ctx;
  const run = (target: TargetName, payload: Payload, tokens: TokenCount, durationSeconds: number) =>
    runLoad(
      ctx.generator,
      { url: ctx.urls[target], connections: options.connections, durationSeconds, mode: payload, tokenFile: tokens === '1' ? ctx.tokenFiles.one : ctx.tokenFiles.many },
      ctx.pinning.client,
      ctx.workDir,
    );

  // Warm-up: JIT, connection pools, and the gateway's verified-token cache (as in steady state).
  // A quick run warms each target once; a full run each target and payload.
  for (const target of TARGETS) {
    for (const payload of options.quick ? PAYLOADS.slice(0, 1) : PAYLOADS) await run(target, payload, tokenCounts(target).at(-1)!, options.warmupSeconds);
  }

  const samples: SaturationSample[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = TARGETS.map((_, index) => TARGETS[(index + round - 1) % TARGETS.length]!);
    for (const target of order) {
      for (const payload of PAYLOADS) {
        for (const tokens of tokenCounts(target)) {
          const pid = ctx.pids[target];
          const separateUpstream = pid !== ctx.upstreamPid;
          resetPeakRss(pid);
          const endWindow = startCpuWindow(separateUpstream ? [pid, ctx.upstreamPid] : [pid]);
          const result = await run(target, payload, tokens, options.durationSeconds);
          const cpu = endWindow();
          const sample: SaturationSample = {
            ...result,
            round,
            target,
            payload,
            tokens,
            targetCpu: cpu?.perServer[pid],
            upstreamCpu: separateUpstream ? cpu?.perServer[ctx.upstreamPid] : undefined,
            othersCpu: cpu?.others,
            peakRssBytes: readPeakRssBytes(pid),
          };
          samples.push(sample);
          ctx.log(
            `  r${round} ${target.padEnd(10)} ${payload.padEnd(4)} ${tokens.padStart(4)} token(s) ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms` +
              (sample.targetCpu !== undefined ? `  cpu ${(sample.targetCpu * 100).toFixed(0)}%` : '') +
              (sample.upstreamCpu !== undefined ? ` (+upstream ${(sample.upstreamCpu * 100).toFixed(0)}%)` : '') +
              (sample.othersCpu !== undefined ? `  others ${(sample.othersCpu * 100).toFixed(0)}%` : '') +
              (result.errors || result.non2xx ? `  errors ${result.errors} non-2xx ${result.non2xx}` : ''),
          );
        }
      }
    }
  }
  return { samples, summary: summarize(samples), paired: await runPairedRounds(ctx, run) };
}

/**
 * Then the ratios the targets are about, measured in pairs (harness/paired.ts): the gateway and
 * the bare proxy, or the gateway and the reference, loaded at the same time. The bare proxy ignores
 * tokens; it gets the same token file as the gateway.
 */
async function runPairedRounds(ctx: BenchContext, run: (target: TargetName, payload: Payload, tokens: TokenCount, seconds: number) => Promise<LoadResult>): Promise<PairedSaturationRow[]> {
  const { options } = ctx;
  const ratios = new Map<string, { row: Omit<PairedSaturationRow, keyof PairedRatio>; values: number[] }>();
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const baseline of ['bare-proxy', 'reference'] as const) {
      for (const payload of options.quick ? PAYLOADS.slice(0, 1) : PAYLOADS) {
        for (const tokens of options.quick ? (['1'] as TokenCount[]) : (['1', '1000'] as TokenCount[])) {
          const pair = await runPaired(round, () => run(baseline, payload, tokens, options.durationSeconds), () => run('gateway', payload, tokens, options.durationSeconds));
          const key = `${baseline} ${payload} ${tokens}`;
          const entry = ratios.get(key) ?? { row: { baseline, payload, tokens }, values: [] };
          entry.values.push(pair.ratio);
          ratios.set(key, entry);
          ctx.log(`  r${round} paired ${baseline.padEnd(10)} + gateway ${payload.padEnd(4)} ${tokens.padStart(4)} token(s) ${pair.baseline.rps.toFixed(0).padStart(6)} + ${pair.measured.rps.toFixed(0).padStart(6)} req/s  ratio ${pair.ratio.toFixed(3)}`);
        }
      }
    }
  }
  return [...ratios.values()].map(({ row, values }) => ({ ...row, ...summarizeRatios(values) }));
}

function summarize(samples: readonly SaturationSample[]): SaturationSummary[] {
  const summary: SaturationSummary[] = [];
  for (const payload of PAYLOADS) {
    for (const target of TARGETS) {
      for (const tokens of tokenCounts(target)) {
        const mine = samples.filter((s) => s.target === target && s.payload === payload && s.tokens === tokens);
        if (mine.length === 0) continue;
        const peaks = mine.map((s) => s.peakRssBytes).filter((v): v is number => v !== undefined);
        summary.push({
          target,
          payload,
          tokens,
          ...summarizeRuns(mine.map((s) => ({ ...s, cpu: s.targetCpu === undefined ? undefined : s.targetCpu + (s.upstreamCpu ?? 0) }))),
          peakRssBytes: peaks.length > 0 ? median(peaks) : undefined,
          errors: mine.reduce((sum, s) => sum + s.errors, 0),
          non2xx: mine.reduce((sum, s) => sum + s.non2xx, 0),
        });
      }
    }
  }
  return summary;
}

/** The summary row of a target; direct and the bare proxy answer for either token count. */
export function findSaturation(summary: readonly SaturationSummary[], target: TargetName, payload: Payload, tokens: TokenCount): SaturationSummary | undefined {
  return summary.find((s) => s.target === target && s.payload === payload && (s.tokens === tokens || target === 'direct' || target === 'bare-proxy'));
}
