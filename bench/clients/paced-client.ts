/**
 * Latency at a fixed low rate: one keep-alive connection per target, a
 * request every 1/rate s (the next waits for the previous answer, so at a
 * rate well below saturation nothing queues), latency from the moment the
 * request is written to the last byte of the answer. Targets are measured one
 * after the other, each after its own warm-up. Prints one `RESULT {...}` line.
 *
 *   node --import tsx bench/clients/paced-client.ts '<PacedSpec as JSON>'
 */
import { readFileSync } from 'node:fs';
import { Client } from 'undici';
import { CLIENT_HEADERS, MODE_HEADER, REQUEST_BODY } from '../fixtures/payloads.js';
import { percentile } from '../harness/stats.js';

export interface PacedSpec {
  targets: Array<{ name: string; url: string }>;
  mode: string;
  rate: number;
  durationSeconds: number;
  warmupSeconds: number;
  tokenFile: string;
}

export interface PacedResult {
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests sent more than 1 ms after their slot (the previous answer was late): the rate was not held. */
  late: number;
  errors: number;
  non2xx: number;
}

const spec = JSON.parse(process.argv[2]!) as PacedSpec;
const token = readFileSync(spec.tokenFile, 'utf8').split('\n')[0]!;
const headers = { ...CLIENT_HEADERS, [MODE_HEADER]: spec.mode, authorization: `Bearer ${token}` };

/** Waits until `at` (performance.now() ms): a timer for the bulk, a short spin for the last millisecond. */
async function waitUntil(at: number): Promise<void> {
  const remaining = at - performance.now();
  if (remaining > 1.5) await new Promise((resolve) => setTimeout(resolve, remaining - 1.2));
  while (performance.now() < at) {
    // spin: timer resolution is ~1 ms, the quantity measured is ~0.1 ms
  }
}

async function measure(client: Client, path: string, seconds: number): Promise<PacedResult> {
  const total = Math.max(1, Math.round(spec.rate * seconds));
  const intervalMs = 1000 / spec.rate;
  const latencies = new Float64Array(total);
  let late = 0;
  let errors = 0;
  let non2xx = 0;
  const start = performance.now() + 1;
  for (let index = 0; index < total; index += 1) {
    const due = start + index * intervalMs;
    if (performance.now() > due + 1) late += 1;
    else await waitUntil(due);
    const sent = performance.now();
    try {
      const response = await client.request({ method: 'POST', path, headers, body: REQUEST_BODY });
      await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (response.statusCode < 200 || response.statusCode > 299) non2xx += 1;
    } catch {
      errors += 1;
    }
    latencies[index] = performance.now() - sent;
  }
  return {
    requests: total,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    late,
    errors,
    non2xx,
  };
}

const results: Record<string, PacedResult> = {};
for (const target of spec.targets) {
  const url = new URL(target.url);
  const client = new Client(url.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  if (spec.warmupSeconds > 0) await measure(client, url.pathname, spec.warmupSeconds);
  results[target.name] = await measure(client, url.pathname, spec.durationSeconds);
  await client.close();
}
process.stdout.write(`RESULT ${JSON.stringify(results)}\n`);
