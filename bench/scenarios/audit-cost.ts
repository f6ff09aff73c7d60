/**
 * What the audit trail costs (issue 4: at most 5 % of throughput): the same
 * gateway configuration three times, differing only in `audit` — off,
 * `write: async` (the default) and `write: sync` — saturated in interleaved
 * rounds with one token, JSON and SSE results. The three gateways run side by
 * side on the server CPU, so a round measures them under the same conditions.
 */
import type { BenchContext } from '../harness/context.js';
import { runLoad, type LoadResult } from '../harness/load-generator.js';
import { runPaired, summarizeRatios, type PairedRatio } from '../harness/paired.js';
import { startCpuWindow } from '../harness/proc-stats.js';
import { summarizeRuns, type LoadRun, type LoadSummary } from '../harness/stats.js';
import type { Payload } from './saturation.js';

export const AUDIT_MODES = ['off', 'async', 'sync'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

export interface AuditCostRow extends LoadSummary {
  mode: AuditMode;
  payload: Payload;
  errors: number;
}

/** One mode against `off`, both loaded at the same time: req/s of `mode` ÷ req/s of `off`. */
export interface PairedAuditRow extends PairedRatio {
  mode: Exclude<AuditMode, 'off'>;
  payload: Payload;
}

export interface AuditCostResult {
  summary: AuditCostRow[];
  paired: PairedAuditRow[];
}

/** `gateways` holds the MCP URL and pid of a gateway per audit mode. */
export async function runAuditCost(ctx: BenchContext, gateways: Record<AuditMode, { url: string; pid: number }>): Promise<AuditCostResult> {
  const { options } = ctx;
  const payloads: Payload[] = options.quick ? ['json'] : ['json', 'sse'];
  const run = (mode: AuditMode, payload: Payload, durationSeconds: number) =>
    runLoad(ctx.generator, { url: gateways[mode].url, connections: options.connections, durationSeconds, mode: payload, tokenFile: ctx.tokenFiles.one }, ctx.pinning.client, ctx.workDir);

  for (const mode of AUDIT_MODES) await run(mode, 'json', options.warmupSeconds);
  const samples: Array<LoadRun & { mode: AuditMode; payload: Payload; errors: number }> = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = AUDIT_MODES.map((_, index) => AUDIT_MODES[(index + round - 1) % AUDIT_MODES.length]!);
    for (const mode of order) {
      for (const payload of payloads) {
        const { pid } = gateways[mode];
        const endWindow = startCpuWindow([pid, ctx.upstreamPid]);
        const result = await run(mode, payload, options.durationSeconds);
        const window = endWindow();
        const cpu = window ? (window.perServer[pid] ?? 0) + (window.perServer[ctx.upstreamPid] ?? 0) : undefined;
        samples.push({ mode, payload, rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpu, othersCpu: window?.others, errors: result.errors + result.non2xx });
        ctx.log(`  r${round} audit ${mode.padEnd(5)} ${payload.padEnd(4)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms` + (window ? `  others ${((window.others ?? 0) * 100).toFixed(0)}%` : ''));
      }
    }
  }

  const summary: AuditCostRow[] = [];
  for (const payload of payloads) {
    for (const mode of AUDIT_MODES) {
      const mine = samples.filter((s) => s.mode === mode && s.payload === payload);
      summary.push({ mode, payload, ...summarizeRuns(mine), errors: mine.reduce((sum, s) => sum + s.errors, 0) });
    }
  }
  return { summary, paired: await runPairedRounds(ctx, payloads, run) };
}

/** Paired rounds (harness/paired.ts): audit off and one other mode loaded at the same time. */
async function runPairedRounds(
  ctx: BenchContext,
  payloads: Payload[],
  run: (mode: AuditMode, payload: Payload, durationSeconds: number) => Promise<LoadResult>,
): Promise<PairedAuditRow[]> {
  const rows: PairedAuditRow[] = [];
  const ratios = new Map<PairedAuditRow['mode'], Map<Payload, number[]>>([['async', new Map()], ['sync', new Map()]]);
  for (let round = 1; round <= ctx.options.rounds; round += 1) {
    for (const [mode, byPayload] of ratios) {
      for (const payload of payloads) {
        const pair = await runPaired(round, () => run('off', payload, ctx.options.durationSeconds), () => run(mode, payload, ctx.options.durationSeconds));
        byPayload.set(payload, [...(byPayload.get(payload) ?? []), pair.ratio]);
        ctx.log(`  r${round} paired off + ${mode.padEnd(5)} ${payload.padEnd(4)} ${pair.baseline.rps.toFixed(0).padStart(6)} + ${pair.measured.rps.toFixed(0).padStart(6)} req/s  ratio ${pair.ratio.toFixed(3)}`);
      }
    }
  }
  for (const [mode, byPayload] of ratios) for (const [payload, values] of byPayload) rows.push({ mode, payload, ...summarizeRatios(values) });
  return rows;
}
