/**
 * The benchmark's report: markdown tables on stdout (so they can be pasted
 * into docs/performance.md) and the issue's targets with ✓/✗.
 */
import type { PolicyBenchResult } from '../policy-decide.js';
import type { AuditCostResult } from '../scenarios/audit-cost.js';
import type { BaselineResult } from '../scenarios/baseline.js';
import type { FixedRateSummary } from '../scenarios/fixed-rate.js';
import { findSaturation, type PairedSaturationRow, type Payload, type SaturationSummary, type TokenCount } from '../scenarios/saturation.js';
import type { StartupResult } from '../scenarios/startup-and-policy.js';
import type { FirstEventResult, IdleStreamsResult, LargeResultsResult } from '../scenarios/streams.js';
import { TARGET_LABELS, TARGETS, type BenchOptions } from './context.js';

export interface BenchResults {
  saturation?: { summary: SaturationSummary[]; paired: PairedSaturationRow[] };
  audit?: AuditCostResult;
  baseline?: BaselineResult;
  fixedRate?: { summary: FixedRateSummary[] };
  firstEvent?: FirstEventResult;
  idleStreams?: IdleStreamsResult;
  /** The same streams through the bare proxy (full runs): what node and undici cost per stream. */
  idleStreamsBareProxy?: IdleStreamsResult;
  large?: LargeResultsResult;
  startup?: StartupResult;
  policy?: PolicyBenchResult;
}

export interface TargetCheck {
  target: string;
  measured: string;
  goal: string;
  met: boolean | undefined;
}

const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MB`);
const ms = (value: number | undefined, digits = 2) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

/** The issue's targets, each with what this run measured. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const sat = results.saturation?.summary;
  if (sat) {
    // The paired ratio is the estimate (harness/paired.ts); the interleaved one is shown beside it.
    for (const [baseline, name, goal] of [['bare-proxy', 'bare proxy', 0.8], ['reference', 'Express + SDK reference', 3]] as const) {
      for (const payload of ['json', 'sse'] as Payload[]) {
        for (const tokens of ['1', '1000'] as TokenCount[]) {
          const interleaved = ratio(findSaturation(sat, 'gateway', payload, tokens)?.rps, findSaturation(sat, baseline, payload, tokens)?.rps);
          const paired = results.saturation?.paired.find((r) => r.baseline === baseline && r.payload === payload && r.tokens === tokens);
          const measured = paired ?? (interleaved === undefined ? undefined : { ratio: interleaved });
          checks.push({
            target: `req/s vs ${name}, ${payload.toUpperCase()}, ${tokens} token(s)`,
            measured:
              measured === undefined
                ? '–'
                : paired
                  ? `${paired.ratio.toFixed(2)}× paired (rounds ${paired.ratioMin.toFixed(2)}–${paired.ratioMax.toFixed(2)}; interleaved ${interleaved?.toFixed(2) ?? '–'}×)`
                  : `${measured.ratio.toFixed(2)}× interleaved`,
            goal: `≥ ${goal}×`,
            met: measured === undefined ? undefined : measured.ratio >= goal,
          });
        }
      }
    }
  }
  for (const payload of ['json', 'sse'] as Payload[]) {
    // The paired ratio is the estimate (see runPairedRounds); the interleaved one is shown beside it.
    const rows = results.audit?.summary.filter((r) => r.payload === payload);
    const interleaved = ratio(rows?.find((r) => r.mode === 'async')?.rps, rows?.find((r) => r.mode === 'off')?.rps);
    const paired = results.audit?.paired.find((r) => r.payload === payload && r.mode === 'async');
    if (paired === undefined) continue;
    checks.push({
      target: `audit cost (async writes vs audit off, paired), ${payload.toUpperCase()}`,
      measured: `${((1 - paired.ratio) * 100).toFixed(1)} % (rounds ${((1 - paired.ratioMax) * 100).toFixed(1)} to ${((1 - paired.ratioMin) * 100).toFixed(1)} %; interleaved ${interleaved === undefined ? '–' : `${((1 - interleaved) * 100).toFixed(1)} %`})`,
      goal: '≤ 5 %',
      met: paired.ratio >= 0.95,
    });
  }
  for (const row of results.fixedRate?.summary.filter((r) => r.target === 'gateway') ?? []) {
    checks.push({ target: `added latency p50 at a fixed rate, ${row.payload.toUpperCase()}`, measured: `${ms(row.addedP50Ms, 3)} ms`, goal: '≤ 0.25 ms', met: row.addedP50Ms <= 0.25 });
    checks.push({ target: `added latency p99 at a fixed rate, ${row.payload.toUpperCase()}`, measured: `${ms(row.addedP99Ms, 3)} ms`, goal: '≤ 1 ms', met: row.addedP99Ms <= 1 });
  }
  if (results.firstEvent) {
    const added = results.firstEvent.gateway.medianMs - results.firstEvent.direct.medianMs;
    checks.push({ target: 'SSE time to first event, gateway − direct (median)', measured: `${ms(added, 3)} ms`, goal: '≤ 1 ms', met: added <= 1 });
  }
  const idle = results.idleStreams;
  if (idle) {
    checks.push({ target: `${idle.requested} idle SSE streams held (open at the end)`, measured: `${idle.stillOpen}`, goal: `${idle.requested}`, met: idle.stillOpen === idle.requested && idle.closedEarly === 0 });
    checks.push({ target: `gateway peak RSS with ${idle.requested} idle streams`, measured: mb(idle.rssPeakBytes), goal: '< 300 MB', met: idle.rssPeakBytes === undefined ? undefined : idle.rssPeakBytes < 300 * 2 ** 20 });
    checks.push({ target: `gateway RSS growth over ${idle.holdSeconds} s`, measured: `${ms(idle.rssSlopeMbPerMinute)} MB/min`, goal: 'none (≤ 0.5 MB/min)', met: Number.isNaN(idle.rssSlopeMbPerMinute) ? undefined : idle.rssSlopeMbPerMinute <= 0.5 });
  }
  if (results.policy) {
    const exact = results.policy.medianNs['exact name (allowed)'];
    const glob = results.policy.medianNs['glob (allowed)'];
    checks.push({ target: `policy decision, ${results.policy.rules} rules, exact tool name`, measured: `${ms(exact === undefined ? undefined : exact / 1000)} µs`, goal: '< 2 µs', met: exact === undefined ? undefined : exact < 2000 });
    checks.push({ target: `policy decision, ${results.policy.rules} rules, glob`, measured: `${ms(glob === undefined ? undefined : glob / 1000)} µs`, goal: '< 10 µs', met: glob === undefined ? undefined : glob < 10_000 });
  }
  if (results.startup) {
    // Everything but the JWKS fetch is done before the gateway listens; /readyz then waits for the keys.
    checks.push({ target: 'start-up, not counting the JWKS fetch (spawn → listening)', measured: `${results.startup.listeningMs.toFixed(0)} ms`, goal: '< 300 ms', met: results.startup.listeningMs < 300 });
  }
  const timing = results.large?.timing.gateway;
  if (timing) {
    checks.push({ target: '256 KiB result streamed (first byte vs last byte, gateway)', measured: `${ms(timing.firstByteMs)} / ${ms(timing.lastByteMs)} ms`, goal: 'first byte long before last', met: timing.firstByteMs < timing.lastByteMs / 4 });
  }
  return checks;
}

export function formatReport(results: BenchResults, options: BenchOptions, header: string[], checks: TargetCheck[]): string {
  const lines: string[] = [...header, ''];
  const sat = results.saturation?.summary;
  if (sat) {
    lines.push(`### Saturation: wrk -t1 -c${options.connections} -d${options.durationSeconds}s, ${options.rounds} interleaved rounds, medians`, '');
    lines.push('| payload | tokens | target | req/s (min–max) | × direct | gateway × this | p50 ms | p99 ms | CPU µs/req | peak RSS | others\' CPU |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of sat) {
      const direct = findSaturation(sat, 'direct', s.payload, s.tokens)?.rps;
      const gateway = findSaturation(sat, 'gateway', s.payload, s.tokens)?.rps;
      const vsDirect = ratio(s.rps, direct);
      const gatewayOverThis = s.target === 'gateway' || s.target === 'direct' ? undefined : ratio(gateway, s.rps);
      lines.push(
        `| ${s.payload.toUpperCase()} | ${s.target === 'direct' || s.target === 'bare-proxy' ? 'any' : s.tokens} | ${s.target} | ${s.rps.toFixed(0)} (${s.rpsMin.toFixed(0)}–${s.rpsMax.toFixed(0)}) | ${vsDirect === undefined ? '–' : vsDirect.toFixed(3)} | ${gatewayOverThis === undefined ? '' : `${gatewayOverThis.toFixed(2)}×`} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${s.cpuUsPerRequest === undefined ? '–' : s.cpuUsPerRequest.toFixed(0)} | ${mb(s.peakRssBytes)} | ${s.othersCpu === undefined ? '–' : `${(s.othersCpu * 100).toFixed(0)} %`} |` +
          (s.errors || s.non2xx ? ` errors ${s.errors}, non-2xx ${s.non2xx}` : ''),
      );
    }
    lines.push('', 'CPU µs/req counts the target and, for proxies, the upstream behind it (both share the server CPU). Others\' CPU: the rest of the machine during the run (noise; should be ~0).');
    const noisiest = Math.max(...sat.map((s) => s.othersCpu ?? 0));
    if (noisiest > 0.25) lines.push(`**Noisy:** other processes used up to ${(noisiest * 100).toFixed(0)} % of a CPU during these runs: the figures measure the neighbours as much as the targets. Do not quote them.`);
    const paired = results.saturation?.paired ?? [];
    if (paired.length > 0) {
      lines.push('', `Paired: the gateway and a baseline loaded at the same time (${options.rounds} rounds × ${options.durationSeconds} s), req/s of the gateway ÷ req/s of the baseline:`, '');
      lines.push('| payload | tokens | baseline | gateway × baseline, median (min–max) |', '|---|---|---|---|');
      for (const r of paired) lines.push(`| ${r.payload.toUpperCase()} | ${r.tokens} | ${r.baseline} | ${r.ratio.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)}) |`);
    }
    lines.push('');
  }
  if (results.audit) {
    lines.push(`### Audit cost: the gateway with audit off, async writes (default) and sync writes; one token, wrk -t1 -c${options.connections} -d${options.durationSeconds}s, ${options.rounds} interleaved rounds, medians`, '');
    lines.push('| payload | audit | req/s (min–max) | × audit off | p50 ms | p99 ms | CPU µs/req | others\' CPU |', '|---|---|---|---|---|---|---|---|');
    for (const r of results.audit.summary) {
      const off = results.audit.summary.find((o) => o.payload === r.payload && o.mode === 'off')?.rps;
      lines.push(
        `| ${r.payload.toUpperCase()} | ${r.mode} | ${r.rps.toFixed(0)} (${r.rpsMin.toFixed(0)}–${r.rpsMax.toFixed(0)}) | ${ratio(r.rps, off)?.toFixed(3) ?? '–'} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.cpuUsPerRequest === undefined ? '–' : r.cpuUsPerRequest.toFixed(0)} | ${r.othersCpu === undefined ? '–' : `${(r.othersCpu * 100).toFixed(0)} %`} |` +
          (r.errors ? ` errors ${r.errors}` : ''),
      );
    }
    lines.push('', `Paired: audit off and one other mode loaded at the same time (${options.rounds} rounds × ${options.durationSeconds} s), req/s of the mode ÷ req/s of off:`, '');
    lines.push('| payload | audit | × audit off, median (min–max) | cost |', '|---|---|---|---|');
    for (const r of results.audit.paired) {
      lines.push(`| ${r.payload.toUpperCase()} | ${r.mode} | ${r.ratio.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)}) | ${((1 - r.ratio) * 100).toFixed(1)} % |`);
    }
    lines.push('');
  }
  if (results.baseline) {
    lines.push(`### This build against the baseline build in ${results.baseline.directory}: both loaded at the same time, ${options.rounds} rounds × ${options.durationSeconds} s`, '');
    lines.push('| payload | this ÷ baseline, req/s, median (min–max) |', '|---|---|');
    for (const r of results.baseline.rows) lines.push(`| ${r.payload.toUpperCase()} | ${r.ratio.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)}) |`);
    lines.push('');
  }
  if (results.fixedRate) {
    lines.push(`### Fixed rate: ${options.rate} requests/s on one keep-alive connection, ${options.rateSeconds} s per target, ${options.rateRounds} round(s), medians`, '');
    lines.push('| payload | target | p50 ms | p99 ms | added p50 ms | added p99 ms |', '|---|---|---|---|---|---|');
    for (const r of results.fixedRate.summary) {
      lines.push(`| ${r.payload.toUpperCase()} | ${r.target} | ${ms(r.p50Ms, 3)} | ${ms(r.p99Ms, 3)} | ${r.target === 'direct' ? '' : ms(r.addedP50Ms, 3)} | ${r.target === 'direct' ? '' : ms(r.addedP99Ms, 3)} |` + (r.errors ? ` errors ${r.errors}` : '') + (r.late ? ` (${r.late} sent late)` : ''));
    }
    lines.push('');
  }
  if (results.firstEvent) {
    lines.push(`### SSE time to first event (first event at once, result 5 ms later; ${results.firstEvent.direct.count} requests each, interleaved)`, '');
    lines.push('| target | median ms | p90 ms | − direct ms |', '|---|---|---|---|');
    for (const name of TARGETS) {
      const r = results.firstEvent[name];
      lines.push(`| ${name} | ${ms(r.medianMs, 3)} | ${ms(r.p90Ms, 3)} | ${name === 'direct' ? '' : ms(r.medianMs - results.firstEvent.direct.medianMs, 3)} |`);
    }
    lines.push('');
  }
  if (results.large) {
    lines.push(`### Large results (256 KiB, written in 16 KiB chunks): wrk -c${options.largeConnections} -d${options.largeSeconds}s`, '');
    lines.push('| target | result | req/s | MiB/s | p50 ms | peak RSS of the target |', '|---|---|---|---|---|---|');
    for (const l of results.large.load) lines.push(`| ${l.target} | ${l.mode === 'large' ? '256 KiB' : 'small'} | ${l.result.rps.toFixed(0)} | ${(l.result.bytesPerSecond / 2 ** 20).toFixed(0)} | ${ms(l.result.p50Ms)} | ${mb(l.peakRssBytes)} |`);
    lines.push('', 'Streaming (the upstream writes the 16 chunks 10 ms apart):', '', '| target | first byte ms | last byte ms |', '|---|---|---|');
    for (const [name, t] of Object.entries(results.large.timing)) lines.push(`| ${name} | ${ms(t.firstByteMs)} | ${ms(t.lastByteMs)} |`);
    lines.push('');
  }
  if (results.idleStreams) {
    const i = results.idleStreams;
    lines.push(`### ${i.requested} idle SSE streams, held ${i.holdSeconds} s`, '');
    for (const r of [results.idleStreams, results.idleStreamsBareProxy]) {
      if (!r) continue;
      lines.push(
        `- ${r.target} (held ${r.holdSeconds} s): opened ${r.opened} in ${(r.openMs / 1000).toFixed(1)} s (statuses ${JSON.stringify(r.statuses)}), ${r.stillOpen} still open at the end, ${r.closedEarly} closed early; ` +
          `RSS ${mb(r.rssBeforeBytes)} before, ${mb(r.rssStartBytes)} once open, peak ${mb(r.rssPeakBytes)} (${mb(r.rssPeakWithOpeningBytes)} while opening), end ${mb(r.rssEndBytes)}; slope ${ms(r.rssSlopeMbPerMinute)} MB/min.`,
      );
    }
    lines.push('');
  }
  if (results.startup) lines.push('### Start-up', '', `spawn → "gateway listening" ${results.startup.listeningMs.toFixed(0)} ms, → /readyz 200 ${results.startup.readyMs.toFixed(0)} ms (median of ${results.startup.runs}; node's own start included).`, '');
  if (results.policy) {
    lines.push(`### Policy decisions (${results.policy.rules} rules, compiled in ${results.policy.compileMs} ms)`, '', '| case | median µs |', '|---|---|');
    for (const [name, ns] of Object.entries(results.policy.medianNs)) lines.push(`| ${name} | ${(ns / 1000).toFixed(2)} |`);
    lines.push('');
  }
  lines.push(`### Targets (issues 8 and 4)${options.quick ? ' — quick run: indicative only' : ''}`, '', '| target | measured | goal | |', '|---|---|---|---|');
  for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.goal} | ${c.met === undefined ? '?' : c.met ? '✓' : '✗'} |`);
  lines.push('', 'Targets:', ...TARGETS.map((t) => `- ${t}: ${TARGET_LABELS[t]}`));
  return lines.join('\n');
}
