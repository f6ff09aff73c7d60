/** Small statistics for the report. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0–100) of values, nearest rank. */
export function percentile(values: readonly number[] | Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator += (p.x - meanX) * (p.y - meanY);
    denominator += (p.x - meanX) ** 2;
  }
  return denominator === 0 ? Number.NaN : numerator / denominator;
}

/** One load run, as the saturation-style scenarios record it. */
export interface LoadRun {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the target (and the upstream behind it), share of one CPU. */
  cpu: number | undefined;
  /** Other processes' CPU meanwhile, share of one CPU. */
  othersCpu: number | undefined;
}

/** Medians over the runs of one target and case (rounds), with the req/s range. */
export interface LoadSummary {
  runs: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Ms: number;
  p99Ms: number;
  cpu: number | undefined;
  cpuUsPerRequest: number | undefined;
  othersCpu: number | undefined;
}

export function summarizeRuns(runs: readonly LoadRun[]): LoadSummary {
  const medianOf = (pick: (run: LoadRun) => number | undefined) => {
    const values = runs.map(pick).filter((v): v is number => v !== undefined);
    return values.length > 0 ? median(values) : undefined;
  };
  const rps = median(runs.map((run) => run.rps));
  const cpu = medianOf((run) => run.cpu);
  return {
    runs: runs.length,
    rps,
    rpsMin: Math.min(...runs.map((run) => run.rps)),
    rpsMax: Math.max(...runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    cpu,
    cpuUsPerRequest: cpu === undefined ? undefined : (cpu / rps) * 1e6,
    othersCpu: medianOf((run) => run.othersCpu),
  };
}
