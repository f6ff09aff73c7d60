/**
 * Paired measurement: two targets loaded at the same time, each by its own load generator, on the
 * shared server CPU. On a shared VM the machine's speed changes in phases of seconds (one target's
 * req/s varied 1.5× between consecutive 5 s rounds), which rounds run one after the other turn into
 * noise in any ratio between targets. Loaded together, both targets live through the same phase, and
 * since the scheduler gives each an equal share of the CPU, the ratio of their req/s is the inverse
 * ratio of their CPU per request. A paired ratio held within about ±3 % from round to round where
 * interleaved rounds scattered from 0.65 to 1.1, and the same build on both sides (A/A) gave medians
 * of 0.98–1.01: differences under ~3 % are not resolved (docs/performance.md).
 */
import type { LoadResult } from './load-generator.js';
import { median } from './stats.js';

export interface PairedRatio {
  /** Median over the rounds of (req/s of the measured target) ÷ (req/s of its baseline). */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  rounds: number;
}

/**
 * Loads `baseline` and `measured` together; returns measured req/s ÷ baseline req/s, and both
 * results. The load generator started first has a head start of a few milliseconds, so callers
 * alternate which one that is from round to round (`round`).
 */
export async function runPaired(round: number, baseline: () => Promise<LoadResult>, measured: () => Promise<LoadResult>): Promise<{ ratio: number; baseline: LoadResult; measured: LoadResult }> {
  const [base, other] = round % 2 === 1 ? await Promise.all([baseline(), measured()]) : await Promise.all([measured(), baseline()]).then(([m, b]) => [b, m] as const);
  return { ratio: other.rps / base.rps, baseline: base, measured: other };
}

export function summarizeRatios(ratios: readonly number[]): PairedRatio {
  return { ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios), rounds: ratios.length };
}
