/**
 * Saturation load: wrk (Debian package `wrk`, installed with apt when missing
 * and possible), else autocannon (a devDependency). Both send the same
 * requests: the bench `tools/call` with one of the tokens of a token file,
 * rotating through them, and the `x-bench-mode` header.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_HEADERS, MODE_HEADER, REQUEST_BODY } from '../fixtures/payloads.js';
import { nodeTs, parseResultLine, runToCompletion } from './processes.js';

export type LoadGeneratorName = 'wrk' | 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Upstream mode header value (json, sse, large…). */
  mode: string;
  /** One token per line; requests rotate through them. */
  tokenFile: string;
  /** Further request headers. */
  headers?: Record<string, string>;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Response bytes received per second. */
  bytesPerSecond: number;
  errors: number;
  non2xx: number;
}

/** wrk when present (installing it with apt when root and allowed), else autocannon. */
export function chooseLoadGenerator(preference: LoadGeneratorName | undefined, log: (line: string) => void): LoadGeneratorName {
  if (preference === 'autocannon') return 'autocannon';
  const haveWrk = () => spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
  if (haveWrk()) return 'wrk';
  if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0) {
    log('wrk not found: installing the Debian package wrk');
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!install()) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
      install();
    }
    if (haveWrk()) return 'wrk';
  }
  if (preference === 'wrk') throw new Error('wrk was asked for and could not be found or installed (apt-get install wrk)');
  log('wrk not available: falling back to autocannon (its own CPU cost is higher: ratios stay comparable, absolute figures are lower)');
  return 'autocannon';
}

function luaString(value: string): string {
  // JSON string escapes (\" \\ \n \uXXXX aside) are valid Lua; the inputs here are ASCII.
  return JSON.stringify(value);
}

/** A wrk script: requests prepared once per token in init(), rotated in request(), results as one JSON line. */
let scriptCount = 0;

function writeWrkScript(workDir: string, spec: LoadSpec): string {
  const headers = { ...CLIENT_HEADERS, [MODE_HEADER]: spec.mode, ...spec.headers };
  const script = `
local requests = {}
local count = 0
local next_index = 0
init = function(args)
  for token in io.lines(${luaString(spec.tokenFile)}) do
    if #token > 0 then
      local headers = {}
${Object.entries(headers).map(([name, value]) => `      headers[${luaString(name)}] = ${luaString(value)}`).join('\n')}
      headers["Authorization"] = "Bearer " .. token
      count = count + 1
      requests[count] = wrk.format("POST", nil, headers, ${luaString(REQUEST_BODY)})
    end
  end
end
request = function()
  next_index = next_index % count + 1
  return requests[next_index]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"non2xx":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`;
  // A file per run: paired runs start two wrk at once, and one must not read a script the other's
  // writeFileSync has just truncated.
  const file = path.join(workDir, `wrk-${spec.mode}-${path.basename(spec.tokenFile)}-${(scriptCount += 1)}.lua`);
  writeFileSync(file, script);
  return file;
}

export async function runLoad(generator: LoadGeneratorName, spec: LoadSpec, cpus: string | undefined, workDir: string): Promise<LoadResult> {
  if (generator === 'wrk') {
    const script = writeWrkScript(workDir, spec);
    const out = await runToCompletion(cpus, ['wrk', ['-t1', `-c${spec.connections}`, `-d${spec.durationSeconds}s`, '--timeout', '5s', '-s', script, spec.url]]);
    const r = parseResultLine<{ requests: number; duration_us: number; bytes: number; errors: number; non2xx: number; p50: number; p99: number }>(out);
    const seconds = r.duration_us / 1e6;
    return { rps: r.requests / seconds, p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, requests: r.requests, bytesPerSecond: r.bytes / seconds, errors: r.errors, non2xx: r.non2xx };
  }
  const out = await runToCompletion(cpus, nodeTs('clients/autocannon-load.ts', [JSON.stringify(spec)]));
  return parseResultLine<LoadResult>(out);
}
