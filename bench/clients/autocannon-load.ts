/**
 * The fallback load generator when wrk cannot be had: autocannon with the
 * same requests as the wrk script (tokens rotated per request). Prints one
 * `RESULT {...}` line (a LoadResult).
 *
 *   node --import tsx bench/clients/autocannon-load.ts '<LoadSpec as JSON>'
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { CLIENT_HEADERS, MODE_HEADER, REQUEST_BODY } from '../fixtures/payloads.js';
import type { LoadResult, LoadSpec } from '../harness/load-generator.js';

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const tokens = readFileSync(spec.tokenFile, 'utf8').split('\n').filter(Boolean);
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSeconds,
  timeout: 5,
  requests: tokens.map((token) => ({
    method: 'POST' as const,
    headers: { ...CLIENT_HEADERS, [MODE_HEADER]: spec.mode, ...spec.headers, authorization: `Bearer ${token}` },
    body: REQUEST_BODY,
  })),
});
const seconds = result.duration;
const output: LoadResult = {
  rps: result.requests.total / seconds,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  requests: result.requests.total,
  bytesPerSecond: result.throughput.total / seconds,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
};
process.stdout.write(`RESULT ${JSON.stringify(output)}\n`);
