/**
 * Streams: time to the first SSE event (direct vs through each proxy), many
 * idle SSE streams held through the gateway (its RSS over time), and large
 * results (do they stream, and what do they cost in throughput and memory).
 */
import { TARGETS, type BenchContext, type TargetName } from '../harness/context.js';
import { runLoad, type LoadResult } from '../harness/load-generator.js';
import { nodeTs, parseResultLine, runToCompletion, startProcess } from '../harness/processes.js';
import { readPeakRssBytes, readRssBytes, resetPeakRss } from '../harness/proc-stats.js';
import { slope } from '../harness/stats.js';

export type FirstEventResult = Record<TargetName, { count: number; medianMs: number; p90Ms: number; errors: number }>;

/** The upstream sends a progress event at once and the result 5 ms later; requests to the targets alternate. */
export async function runFirstEvent(ctx: BenchContext): Promise<FirstEventResult> {
  const spec = { kind: 'first-event', targets: TARGETS.map((name) => ({ name, url: ctx.urls[name] })), count: ctx.options.firstEventCount, delayMs: 5, tokenFile: ctx.tokenFiles.one };
  const result = parseResultLine<FirstEventResult>(await runToCompletion(ctx.pinning.client, nodeTs('clients/stream-client.ts', [JSON.stringify(spec)])));
  for (const name of TARGETS) ctx.log(`  ${name.padEnd(10)} first event after ${result[name].medianMs.toFixed(3)} ms (median of ${result[name].count}, p90 ${result[name].p90Ms.toFixed(3)} ms)${result[name].errors ? `  errors ${result[name].errors}` : ''}`);
  return result;
}

export interface IdleStreamsResult {
  target: TargetName;
  requested: number;
  opened: number;
  stillOpen: number;
  closedEarly: number;
  statuses: Record<string, number>;
  openMs: number;
  holdSeconds: number;
  rssBeforeBytes: number | undefined;
  /** RSS right after the streams were open, its peak and its last value during the hold. */
  rssStartBytes: number | undefined;
  rssPeakBytes: number | undefined;
  rssEndBytes: number | undefined;
  /** Least-squares slope of RSS over the hold, in MB per minute. */
  rssSlopeMbPerMinute: number;
  /** Peak RSS over the whole scenario, opening included (VmHWM). */
  rssPeakWithOpeningBytes: number | undefined;
  samples: Array<{ seconds: number; rssBytes: number }>;
}

/**
 * Opens `streams` GET listen streams through a proxy (the gateway; the bare
 * proxy as a baseline), spread over the 1,000 bench principals (5 each for
 * 5,000 streams, within the gateway's default per-principal stream cap of 16),
 * holds them for `holdSeconds` and samples the proxy's RSS.
 */
export async function runIdleStreams(ctx: BenchContext, target: TargetName, holdSeconds: number): Promise<IdleStreamsResult> {
  const { options } = ctx;
  const pid = ctx.pids[target];
  const rssBeforeBytes = readRssBytes(pid);
  resetPeakRss(pid);
  const spec = { kind: 'idle', url: ctx.urls[target], count: options.streams, concurrency: 100, holdSeconds, tokenFile: ctx.tokenFiles.many };
  const client = await startProcess({
    name: 'stream client',
    cpus: ctx.pinning.client,
    command: nodeTs('clients/stream-client.ts', [JSON.stringify(spec)]),
    ready: (line, stream) => (stream === 'stdout' && line.startsWith('OPENED ') ? (JSON.parse(line.slice(7)) as { open: number; openMs: number }) : undefined),
    timeoutMs: 120_000,
  });
  ctx.log(`  ${target}: ${client.ready.open} of ${options.streams} streams open after ${(client.ready.openMs / 1000).toFixed(1)} s; holding for ${holdSeconds} s`);
  const samples: Array<{ seconds: number; rssBytes: number }> = [];
  const started = performance.now();
  const finished = new Promise<string>((resolve) => {
    let out = '';
    client.child.stdout!.on('data', (chunk: string) => (out += chunk));
    client.child.once('exit', () => resolve(out));
  });
  let done = false;
  void finished.then(() => (done = true));
  let nextLog = 0;
  // At least ~10 samples over the hold, for the slope.
  const sampleMs = Math.max(500, Math.min(options.rssSampleSeconds * 1000, (holdSeconds * 1000) / 10));
  while (!done) {
    const seconds = (performance.now() - started) / 1000;
    const rssBytes = readRssBytes(pid);
    if (rssBytes !== undefined && seconds <= holdSeconds) samples.push({ seconds, rssBytes });
    if (seconds >= nextLog && rssBytes !== undefined) {
      ctx.log(`  t=${seconds.toFixed(0).padStart(4)} s  ${target} RSS ${(rssBytes / 2 ** 20).toFixed(1)} MB`);
      nextLog += Math.max(10, holdSeconds / 10);
    }
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, sampleMs))]);
  }
  const rssPeakWithOpeningBytes = readPeakRssBytes(pid);
  const result = parseResultLine<Pick<IdleStreamsResult, 'requested' | 'opened' | 'stillOpen' | 'closedEarly' | 'statuses' | 'openMs'>>(await finished);
  const rss = samples.map((s) => s.rssBytes);
  const out: IdleStreamsResult = {
    target,
    ...result,
    holdSeconds,
    rssBeforeBytes,
    rssStartBytes: rss[0],
    rssPeakBytes: rss.length > 0 ? Math.max(...rss) : undefined,
    rssEndBytes: rss.at(-1),
    rssSlopeMbPerMinute: slope(samples.map((s) => ({ x: s.seconds / 60, y: s.rssBytes / 2 ** 20 }))),
    rssPeakWithOpeningBytes,
    samples,
  };
  ctx.log(`  opened ${out.opened}, still open at the end ${out.stillOpen}, closed early ${out.closedEarly}, statuses ${JSON.stringify(out.statuses)}; RSS slope ${out.rssSlopeMbPerMinute.toFixed(2)} MB/min`);
  return out;
}

export interface LargeResultsResult {
  /** wrk with 256 KiB results, bare proxy and gateway, and the gateway with small results for comparison. */
  load: Array<{ target: TargetName; mode: 'large' | 'json'; result: LoadResult; peakRssBytes: number | undefined }>;
  /** Upstream writing 16 chunks 10 ms apart: first and last byte as the client sees them. */
  timing: Record<string, { count: number; bytes: number; firstByteMs: number; lastByteMs: number; errors: number }>;
}

export async function runLargeResults(ctx: BenchContext): Promise<LargeResultsResult> {
  const { options } = ctx;
  const load: LargeResultsResult['load'] = [];
  const runs: Array<{ target: TargetName; mode: 'large' | 'json' }> = [
    { target: 'gateway', mode: 'json' },
    { target: 'bare-proxy', mode: 'large' },
    { target: 'gateway', mode: 'large' },
  ];
  for (const { target, mode } of runs) {
    const pid = ctx.pids[target];
    const spec = { url: ctx.urls[target], connections: options.largeConnections, durationSeconds: options.largeSeconds, mode, tokenFile: ctx.tokenFiles.one };
    // Warm-up for this payload (a quick run relies on the earlier scenarios' warm-up).
    if (!options.quick) await runLoad(ctx.generator, { ...spec, durationSeconds: 1 }, ctx.pinning.client, ctx.workDir);
    resetPeakRss(pid);
    const result = await runLoad(ctx.generator, spec, ctx.pinning.client, ctx.workDir);
    const peakRssBytes = readPeakRssBytes(pid);
    load.push({ target, mode, result, peakRssBytes });
    ctx.log(
      `  ${target.padEnd(10)} ${mode.padEnd(5)} -c${options.largeConnections}: ${result.rps.toFixed(0).padStart(6)} req/s  ${(result.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s  p50 ${result.p50Ms.toFixed(2)} ms  peak RSS ${peakRssBytes === undefined ? '?' : (peakRssBytes / 2 ** 20).toFixed(1)} MB` +
        (result.errors || result.non2xx ? `  errors ${result.errors} non-2xx ${result.non2xx}` : ''),
    );
  }
  const spec = { kind: 'large', targets: (['direct', 'gateway'] as const).map((name) => ({ name, url: ctx.urls[name] })), count: options.largeTimingCount, delayMs: 10, tokenFile: ctx.tokenFiles.one };
  const timing = parseResultLine<LargeResultsResult['timing']>(await runToCompletion(ctx.pinning.client, nodeTs('clients/stream-client.ts', [JSON.stringify(spec)])));
  for (const [name, t] of Object.entries(timing)) ctx.log(`  ${name.padEnd(10)} 256 KiB written over ~150 ms: first byte ${t.firstByteMs.toFixed(2)} ms, last byte ${t.lastByteMs.toFixed(2)} ms (${t.bytes} bytes)`);
  return { load, timing };
}
