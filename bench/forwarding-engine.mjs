#!/usr/bin/env node
// One-off measurement behind docs/decisions/0001-forwarding-engine.md:
// undici (Pool.request + pipeline, Pool.stream) vs http-proxy-middleware 3 as
// the forwarding engine, raw node:http and behind Hono on @hono/node-server.
// Not the project's benchmark suite (that is `npm run bench`, later).
//
// How to run (the extra packages stay out of this project's package.json):
//
//   apt-get install -y wrk                        # load generator (Debian package)
//   mkdir -p /tmp/fwd-deps && cd /tmp/fwd-deps && npm init -y && npm i http-proxy-middleware@3
//   cd <repo> && BENCH_EXTRA_DEPS=/tmp/fwd-deps node bench/forwarding-engine.mjs
//
// undici, hono and @hono/node-server are imported from this repo's node_modules
// (the versions the gateway ships); http-proxy-middleware is resolved with
// createRequire() from $BENCH_EXTRA_DEPS. Without taskset or with fewer than
// 2 CPUs the processes run unpinned. A full run takes about 10 minutes on a
// quiet machine, more when samples have to be repeated. Runs are short (2-3 s)
// so that they fit between other processes' bursts on a shared machine; on a
// quiet machine use DURATION=10 C1_DURATION=5 RATE_DURATION=10.
//
// Options (environment):
//   ROUNDS=5 DURATION=2 CONNECTIONS=32       saturation runs (wrk -t1 -cN), interleaved rounds
//   C1_DURATION=2 C1_ROUNDS=3                -c1 latency runs (wrk -t1 -c1; 0 = skip)
//   RATE=1000 RATE_DURATION=3 RATE_ROUNDS=3  fixed-rate latency (0 = skip): an open-loop
//                                            generator in this file (wrk2 is not in Debian),
//                                            latency counted from each request's scheduled
//                                            send time, so queueing is not hidden (it
//                                            ticks every 1 ms: ~1 ms latency floor, see "direct")
//   ONLY=direct,undici-request,...           subset of targets; PAYLOADS=json,sse
//   QUIET_SECONDS=1 QUIET_TIMEOUT=180        before each sample, wait until other processes used
//                                            < MAX_OTHERS/2 CPUs for QUIET_SECONDS (shared machine)
//   MAX_OTHERS=0.25 MAX_WAIT=0.1             re-run a sample (up to MAX_ATTEMPTS times) when
//   MIN_SATURATED_CPU=0.9 MAX_ATTEMPTS=30    other processes on the machine used more than
//                                            MAX_OTHERS CPUs (user time: /proc/stat minus ours),
//                                            when the server's main thread spent more than
//                                            MAX_WAIT of the run waiting for a CPU (this includes
//                                            waiting for its own GC threads: 2-5 % is normal),
//                                            or when a saturation run left the server below
//                                            MIN_SATURATED_CPU; a sample kept after the last
//                                            attempt counts as noisy
//   OUT=file.json                            raw samples as JSON; `node bench/forwarding-engine.mjs
//                                            --summarize a.json b.json` prints the table again (merged)
//
// Layout on a 2-CPU machine: CPU 1 runs the server under test (the proxy; for
// "direct", the upstream itself). CPU 0 runs the load generator and, for the
// proxy targets, a separate upstream instance. Every run also records the CPU
// time the server under test used, so a run limited by CPU 0 instead would show
// up as a server below 100 % CPU.

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const SELF = fileURLToPath(import.meta.url);

// ~200-byte JSON-RPC tools/call request body, and the upstream's answers.
const REQUEST_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 42,
  method: 'tools/call',
  params: { name: 'search_documents', arguments: { query: 'quarterly revenue by region', limit: 10, include_archived: false } },
});
const RESULT = JSON.stringify({
  jsonrpc: '2.0',
  id: 42,
  result: { content: [{ type: 'text', text: 'Found 3 documents: q1-report.pdf, q2-report.pdf, regional-summary.xlsx' }], isError: false },
});
const SSE_EVENT = `event: message\ndata: ${RESULT}\n\n`;
// What an MCP client sends besides the body; the token must not reach the upstream.
const CLIENT_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
  'mcp-session-id': '5b1c7e0e-3c1f-4a55-9d43-1f0a3f5c9e21',
  authorization: `Bearer ${'eyJhbGciOiJSUzI1NiJ9.' + 'x'.repeat(600)}`,
};

const TARGETS = {
  direct: 'upstream answering itself (no proxy)',
  'undici-request': 'node:http + undici Pool.request + stream.pipeline (our forwarder)',
  'undici-request-pipe': 'as undici-request, but body.pipe(res) + events instead of stream/promises pipeline',
  'undici-stream': 'node:http + undici Pool.stream, factory returns the ServerResponse',
  'hpm-default': 'node:http + http-proxy-middleware 3, default options (agent: false)',
  'hpm-keepalive': 'node:http + http-proxy-middleware 3, keep-alive http.Agent',
  'hono-undici-request': 'Hono on @hono/node-server 2 + the same Pool.request forwarding',
};
const PAYLOADS = { json: '/mcp', sse: '/sse' };

// ---------------------------------------------------------------- servers ---

function startUpstream(port) {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.end(SSE_EVENT);
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(RESULT) });
        res.end(RESULT);
      }
    });
  });
  return listen(server, port);
}

// A trimmed copy of src/proxy/forward-headers.ts, so every variant does the same header work.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const NEVER_UPSTREAM = new Set(['authorization', 'cookie', 'host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);
const NEVER_DOWNSTREAM = new Set(['www-authenticate', 'set-cookie']);

function upstreamHeaders(req) {
  const headers = {};
  for (const name in req.headers) {
    if (HOP_BY_HOP.has(name) || NEVER_UPSTREAM.has(name)) continue;
    headers[name] = req.headers[name];
  }
  headers['x-forwarded-for'] = req.socket.remoteAddress;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = 'gateway.example';
  return headers;
}

function clientHeaders(upstream) {
  const headers = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || NEVER_DOWNSTREAM.has(name) || upstream[name] === undefined) continue;
    headers[name] = upstream[name];
  }
  headers['x-accel-buffering'] = 'no';
  return headers;
}

const isEventStream = (headers) => typeof headers['content-type'] === 'string' && headers['content-type'].startsWith('text/event-stream');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function makeUndiciForwarders(upstream) {
  const { Pool } = await import('undici');
  // The options of src/proxy/forwarder.ts; at 32 client connections the cap of 128 never
  // applies, so this equals the gateway's uncapped default.
  const pool = new Pool(upstream, { connections: 128, headersTimeout: 30_000, bodyTimeout: 0, keepAliveTimeout: 30_000 });

  async function viaRequest(req, res, body) {
    const response = await pool.request({ method: req.method, path: req.url, headers: upstreamHeaders(req), body });
    const headers = clientHeaders(response.headers);
    res.writeHead(response.statusCode, headers);
    if (isEventStream(headers)) res.flushHeaders();
    await pipeline(response.body, res);
  }

  // Same as viaRequest without stream/promises.pipeline, which creates and aborts
  // an AbortController (a DOMException with a stack trace) per call.
  async function viaRequestPipe(req, res, body) {
    const response = await pool.request({ method: req.method, path: req.url, headers: upstreamHeaders(req), body });
    const headers = clientHeaders(response.headers);
    res.writeHead(response.statusCode, headers);
    if (isEventStream(headers)) res.flushHeaders();
    await new Promise((resolve, reject) => {
      const onClose = () => {
        if (!res.writableFinished) {
          response.body.destroy();
          reject(new Error('client closed'));
        }
      };
      response.body.once('error', (error) => {
        res.destroy();
        reject(error);
      });
      res.once('finish', resolve);
      res.once('close', onClose);
      response.body.pipe(res);
    });
  }

  async function viaStream(req, res, body) {
    await pool.stream({ method: req.method, path: req.url, headers: upstreamHeaders(req), body, opaque: res }, ({ statusCode, headers: upstream, opaque }) => {
      const headers = clientHeaders(upstream);
      opaque.writeHead(statusCode, headers);
      if (isEventStream(headers)) opaque.flushHeaders();
      return opaque;
    });
  }
  return { viaRequest, viaRequestPipe, viaStream };
}

function fail(res, error) {
  if (!res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: String(error?.message ?? error) }));
  } else if (!res.destroyed) res.destroy();
}

async function startProxy(kind, port, upstream) {
  if (kind === 'undici-request' || kind === 'undici-request-pipe' || kind === 'undici-stream') {
    const forwarders = await makeUndiciForwarders(upstream);
    const forward = { 'undici-request': forwarders.viaRequest, 'undici-request-pipe': forwarders.viaRequestPipe, 'undici-stream': forwarders.viaStream }[kind];
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      readBody(req)
        .then((body) => forward(req, res, body))
        .catch((error) => fail(res, error));
    });
    return listen(server, port);
  }

  if (kind === 'hono-undici-request') {
    const { Hono } = await import('hono');
    const { getRequestListener } = await import('@hono/node-server');
    const { RESPONSE_ALREADY_SENT } = await import('@hono/node-server/utils/response');
    const { viaRequest } = await makeUndiciForwarders(upstream);
    const app = new Hono();
    // What src/http/middleware/read-json-rpc.ts + forward.ts do, minus parsing and auth.
    app.post('*', async (c) => {
      const { incoming, outgoing } = c.env;
      const body = await readBody(incoming);
      await viaRequest(incoming, outgoing, body);
      return RESPONSE_ALREADY_SENT;
    });
    app.onError((error, c) => {
      if (process.env.BENCH_DEBUG) console.error(error);
      fail(c.env.outgoing, error);
      return RESPONSE_ALREADY_SENT;
    });
    const server = http.createServer({ keepAliveTimeout: 65_000 }, getRequestListener(app.fetch, { overrideGlobalObjects: false }));
    return listen(server, port);
  }

  if (kind === 'hpm-default' || kind === 'hpm-keepalive') {
    const extra = process.env.BENCH_EXTRA_DEPS;
    if (!extra) throw new Error('BENCH_EXTRA_DEPS must point at a directory with http-proxy-middleware@3 installed');
    const { createProxyMiddleware } = createRequire(path.join(path.resolve(extra), 'package.json'))('http-proxy-middleware');
    const agent = kind === 'hpm-keepalive' ? new http.Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 30_000 }) : undefined;
    const proxy = createProxyMiddleware({
      target: upstream,
      ...(agent ? { agent } : {}),
      xfwd: true,
      on: {
        // Parity with the undici variants: the client's token and cookies stay here.
        proxyReq: (proxyReq) => {
          proxyReq.removeHeader('authorization');
          proxyReq.removeHeader('cookie');
        },
        error: (error, _req, res) => fail(res, error),
      },
    });
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => proxy(req, res, (error) => fail(res, error ?? 'not proxied')));
    return listen(server, port);
  }
  throw new Error(`unknown proxy kind ${kind}`);
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// ------------------------------------------------------------ orchestrator ---

const env = (name, fallback) => (process.env[name] === undefined ? fallback : process.env[name]);
const numEnv = (name, fallback) => Number(env(name, fallback));

const pinning = (() => {
  const hasTaskset = spawnSync('taskset', ['-V']).status === 0;
  return hasTaskset && os.availableParallelism() >= 2;
})();
const LOAD_CPU = '0';
const SERVER_CPU = '1';

function pinned(cpu, command, args) {
  return pinning ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
}

const children = [];
function spawnServer(cpu, args) {
  const [command, argv] = pinned(cpu, process.execPath, [SELF, ...args]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('READY')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server ${args.join(' ')} exited with ${code}`)));
  });
}

// The server process's pid: with taskset, the node process replaces taskset (exec), same pid.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, total: (Number(fields[11]) + Number(fields[12])) / 100 }; // clock ticks at 100 Hz
}

// CPU seconds of all the process's threads (event loop, GC helpers, libuv pool),
// with ns precision unlike the clock ticks of /proc/<pid>/stat.
function threadsCpuSeconds(pid) {
  let ns = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread ended meanwhile
    }
  }
  return ns / 1e9;
}

// Seconds the main thread was runnable but waited for a CPU. On a shared machine
// (other builds and test runs) this tells whether a sample measured the server
// or the neighbours.
function runQueueWaitSeconds(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}

// User time spent on all CPUs by anyone, minus the user time of this benchmark's
// own processes (servers, and via cutime the finished load generators): other
// work on the machine (a shared VM, a parallel test run) competing during a run.
function machineUserSeconds() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  const [user, nice] = line.split(/\s+/).slice(1, 3).map(Number);
  return (user + nice) / 100;
}
function ownUserSeconds() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let total = (Number(fields[11]) + Number(fields[13])) / 100; // utime + cutime (reaped wrk/generator runs)
  for (const child of children) if (child.exitCode === null) total += cpuSeconds(child.pid).user;
  return total;
}

const WRK_LUA = `
wrk.method = "POST"
wrk.body = ${JSON.stringify(REQUEST_BODY)}
${Object.entries(CLIENT_HEADERS).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} → ${code}\n${err}`))));
  });
}

async function wrk(url, { connections, duration, luaPath }) {
  const [command, args] = pinned(LOAD_CPU, 'wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '5s', '-s', luaPath, url]);
  const out = await run(command, args);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  const r = JSON.parse(line.slice(7));
  return { rps: r.requests / (r.duration_us / 1e6), p50: r.p50 / 1000, p90: r.p90 / 1000, p99: r.p99 / 1000, errors: r.errors, non2xx: r.non2xx };
}

async function pacedLoad(url, { connections, duration, rate }) {
  const [command, args] = pinned(LOAD_CPU, process.execPath, [SELF, '--load', url, '--rate', String(rate), '--duration', String(duration), '--connections', String(connections)]);
  const out = await run(command, args);
  return JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
}

// Open-loop generator: request i is due at start + i/rate; latency runs from the
// due time, so a stalled server cannot make the generator wait and hide it.
async function runPacedLoad(url, { rate, duration, connections, warmup = 1 }) {
  const { Pool } = await import('undici');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  // Unrecorded first second: the generator's own JIT warm-up would otherwise show up as server latency.
  if (warmup > 0) await runPaced(pool, target, rate, warmup);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const result = await runPaced(pool, target, rate, duration);
  lag.disable();
  await pool.close();
  // The generator's own event-loop lag (p99, ms): a high value means the numbers above include generator stalls.
  return { ...result, generatorLagP99: lag.percentile(99) / 1e6 };
}

async function runPaced(pool, target, rate, duration) {
  const total = Math.round(rate * duration);
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  await new Promise((resolve) => {
    const fire = (i, due) => {
      pool
        .request({ method: 'POST', path: target.pathname, headers: CLIENT_HEADERS, body: REQUEST_BODY })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
        })
        .catch(() => errors++)
        .finally(() => {
          latencies[i] = performance.now() - due;
          if (++done === total) resolve();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + (sent * 1000) / rate <= now) {
        fire(sent, started + (sent * 1000) / rate);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { rps: total / elapsed, p50: pct(50), p90: pct(90), p99: pct(99), errors, non2xx };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function sanityCheck(url, payload) {
  const { statusCode, headers, body } = await new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: CLIENT_HEADERS, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ statusCode: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(REQUEST_BODY);
  });
  const expected = payload === 'sse' ? SSE_EVENT : RESULT;
  if (statusCode !== 200 || body !== expected) throw new Error(`${url}: unexpected answer ${statusCode} ${JSON.stringify(headers)} ${body}`);
}

async function main() {
  const rounds = numEnv('ROUNDS', 5);
  const duration = numEnv('DURATION', 2);
  const connections = numEnv('CONNECTIONS', 32);
  const c1Duration = numEnv('C1_DURATION', 2);
  const c1Rounds = numEnv('C1_ROUNDS', 3);
  const rate = numEnv('RATE', 1000);
  const rateDuration = numEnv('RATE_DURATION', 3);
  const rateRounds = numEnv('RATE_ROUNDS', 3);
  const targets = env('ONLY', Object.keys(TARGETS).join(',')).split(',');
  const payloads = env('PAYLOADS', 'json,sse').split(',');
  if (targets.some((t) => t.startsWith('hpm'))) {
    if (!process.env.BENCH_EXTRA_DEPS) throw new Error('set BENCH_EXTRA_DEPS (see the header of this file)');
  }

  const luaPath = path.join(os.tmpdir(), `forwarding-engine-${process.pid}.lua`);
  fs.writeFileSync(luaPath, WRK_LUA);

  // The upstream under test ("direct") gets the server CPU; the proxies' upstream shares CPU 0 with the load generator.
  let port = 18_400;
  const ports = {};
  const procs = {};
  ports.direct = port++;
  procs.direct = await spawnServer(SERVER_CPU, ['--serve', 'upstream', '--port', String(ports.direct)]);
  const proxiedUpstreamPort = port++;
  const upstreamProc = await spawnServer(LOAD_CPU, ['--serve', 'upstream', '--port', String(proxiedUpstreamPort)]);
  for (const target of targets.filter((t) => t !== 'direct')) {
    ports[target] = port++;
    procs[target] = await spawnServer(SERVER_CPU, ['--serve', target, '--port', String(ports[target]), '--upstream', `http://127.0.0.1:${proxiedUpstreamPort}`]);
  }
  const url = (target, payload) => `http://127.0.0.1:${ports[target]}${PAYLOADS[payload]}`;

  for (const target of targets) for (const payload of payloads) await sanityCheck(url(target, payload), payload);

  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    node: process.version,
    undici: JSON.parse(fs.readFileSync(new URL(import.meta.resolve('undici/package.json')), 'utf8')).version,
    pinning: pinning ? `load generator + proxied upstream on CPU ${LOAD_CPU}, server under test on CPU ${SERVER_CPU}` : 'none',
  };
  console.error(JSON.stringify(machine));

  const samples = []; // { phase, target, payload, round, rps, p50, p90, p99, cpu }
  const maxWait = numEnv('MAX_WAIT', 0.1);
  const maxOthers = numEnv('MAX_OTHERS', 0.25);
  const minSaturatedCpu = numEnv('MIN_SATURATED_CPU', 0.9);
  const maxAttempts = numEnv('MAX_ATTEMPTS', 30);
  // Others' builds and test runs come in bursts: start a sample only after the
  // machine has been quiet for QUIET_SECONDS (or after QUIET_TIMEOUT seconds).
  const quietSeconds = numEnv('QUIET_SECONDS', 1);
  const quietTimeout = numEnv('QUIET_TIMEOUT', 180);
  async function waitForQuiet() {
    const deadline = performance.now() + quietTimeout * 1000;
    let quietSince = performance.now();
    let machine = machineUserSeconds();
    let own = ownUserSeconds();
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const m = machineUserSeconds();
      const o = ownUserSeconds();
      if ((m - machine - (o - own)) / 0.5 > maxOthers / 2) quietSince = performance.now();
      else if (performance.now() - quietSince >= quietSeconds * 1000) return;
      machine = m;
      own = o;
    }
  }

  async function measure(phase, target, payload, round, fn) {
    const pid = procs[target].pid;
    for (let attempt = 1; ; attempt++) {
      await waitForQuiet();
      const before = cpuSeconds(pid);
      const upBefore = target === 'direct' ? null : cpuSeconds(upstreamProc.pid);
      const runBefore = threadsCpuSeconds(pid);
      const waitBefore = runQueueWaitSeconds(pid);
      const machineBefore = machineUserSeconds();
      const ownBefore = ownUserSeconds();
      const started = performance.now();
      const result = await fn();
      const wall = (performance.now() - started) / 1000;
      const after = cpuSeconds(pid);
      const cpu = (threadsCpuSeconds(pid) - runBefore) / wall;
      const upstreamCpu = upBefore === null ? null : (cpuSeconds(upstreamProc.pid).total - upBefore.total) / wall;
      const foreign = Math.max(0, (machineUserSeconds() - machineBefore - (ownUserSeconds() - ownBefore)) / wall);
      const wait = (runQueueWaitSeconds(pid) - waitBefore) / wall;
      const noisy = wait > maxWait || foreign > maxOthers || (phase === 'saturate' && cpu < minSaturatedCpu);
      const retry = noisy && attempt < maxAttempts;
      const sample = { phase, target, payload, round, attempt, contaminated: noisy, ...result, cpu, wait, upstreamCpu, foreign, cpuUsPerReq: (cpu / result.rps) * 1e6 };
      console.error(
        `${phase.padEnd(10)} r${round} ${target.padEnd(20)} ${payload.padEnd(4)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)}  p99 ${result.p99.toFixed(2)} ms  cpu ${(cpu * 100).toFixed(0)}%` +
          (upstreamCpu === null ? '' : ` (upstream ${(upstreamCpu * 100).toFixed(0)}%)`) +
          `  waited ${(wait * 100).toFixed(1)}%  others ${(foreign * 100).toFixed(0)}%` +
          (result.generatorLagP99 === undefined ? '' : `  generator lag p99 ${result.generatorLagP99.toFixed(1)} ms`) +
          (result.errors || result.non2xx ? `  errors ${result.errors} non2xx ${result.non2xx}` : '') +
          (retry ? '  → discarded (other load on the machine), again' : sample.contaminated ? '  → kept anyway (attempts used up)' : ''),
      );
      if (!retry) {
        samples.push(sample);
        if (process.env.OUT) fs.writeFileSync(process.env.OUT, JSON.stringify({ machine, samples }, null, 2));
        return;
      }
    }
  }

  // Warm-up: JIT and connection pools.
  for (const target of targets) for (const payload of payloads) await wrk(url(target, payload), { connections, duration: 2, luaPath });

  for (let round = 1; round <= rounds; round++) {
    // Rotate the order each round so no target always runs first or last.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]);
    for (const target of order) for (const payload of payloads) {
      await measure('saturate', target, payload, round, () => wrk(url(target, payload), { connections, duration, luaPath }));
    }
  }
  if (c1Duration > 0) {
    for (let round = 1; round <= c1Rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]);
      for (const target of order) for (const payload of payloads) {
        await measure('c1', target, payload, round, () => wrk(url(target, payload), { connections: 1, duration: c1Duration, luaPath }));
      }
    }
  }
  if (rate > 0) {
    for (let round = 1; round <= rateRounds; round++) {
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]);
      for (const target of order) for (const payload of payloads) {
        await measure(`rate${rate}`, target, payload, round, () => pacedLoad(url(target, payload), { connections, duration: rateDuration, rate }));
      }
    }
  }

  const lines = summarize(samples);
  console.log(`machine: ${JSON.stringify(machine)}`);
  for (const target of targets) console.log(`${target}: ${TARGETS[target]}`);
  console.log(`saturate: wrk -t1 -c${connections} -d${duration}s × ${rounds} interleaved rounds; c1: -c1 -d${c1Duration}s × ${c1Rounds}; rate: open-loop ${rate} req/s over ≤${connections} connections, ${rateDuration}s × ${rateRounds}; medians`);
  console.log(lines.join('\n'));
  const out = process.env.OUT;
  if (out) fs.writeFileSync(out, JSON.stringify({ machine, samples }, null, 2));
  fs.rmSync(luaPath, { force: true });
}

// Medians per phase/payload/target. The ratio columns are medians of per-round
// ratios (each round runs every target back to back), which cancels slow drifts
// in machine load better than a ratio of medians. "CPU µs/req" is the server's
// CPU time per request: on a shared machine it moves much less than req/s.
function summarize(samples) {
  const key = (...parts) => parts.join('|');
  const uniq = (values) => [...new Set(values)];
  const byRound = new Map(samples.map((s) => [key(s.phase, s.payload, s.target, s.run ?? 0, s.round), s]));
  const lines = [
    '| phase | payload | target | req/s median (min–max) | p50 ms | p99 ms | server CPU | CPU µs/req | req/s vs direct | req/s vs undici-request | CPU/req vs undici-request | noisy runs |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const phase of uniq(samples.map((s) => s.phase)))
    for (const payload of uniq(samples.map((s) => s.payload)))
      for (const target of uniq(samples.map((s) => s.target))) {
        const mine = samples.filter((s) => s.phase === phase && s.payload === payload && s.target === target);
        if (mine.length === 0) continue;
        const m = (field) => median(mine.map((s) => s[field]));
        const pairedRatio = (ref, field = 'rps') => {
          if (field === 'rps' && phase.startsWith('rate')) return '–'; // fixed rate: same throughput by construction
          const ratios = mine.map((s) => byRound.get(key(phase, payload, ref, s.run ?? 0, s.round))).map((r, i) => r && mine[i][field] / r[field]).filter(Boolean);
          return ratios.length ? median(ratios).toFixed(2) : '–';
        };
        const rps = mine.map((s) => s.rps);
        lines.push(
          `| ${phase} | ${payload} | ${target} | ${m('rps').toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) | ${m('p50').toFixed(2)} | ${m('p99').toFixed(2)} | ${(m('cpu') * 100).toFixed(0)} % | ${m('cpuUsPerReq').toFixed(0)} | ${pairedRatio('direct')} | ${pairedRatio('undici-request')} | ${pairedRatio('undici-request', 'cpuUsPerReq')} | ${mine.filter((s) => s.contaminated).length}/${mine.length} |`,
        );
      }
  return lines;
}

// -------------------------------------------------------------------- main ---

const argv = process.argv.slice(2);
if (argv[0] === '--summarize') {
  // Re-summarize (and merge) raw sample files written with OUT=.
  const samples = argv.slice(1).flatMap((file, run) => JSON.parse(fs.readFileSync(file, 'utf8')).samples.map((s) => ({ ...s, run })));
  console.log(summarize(samples).join('\n'));
} else if (argv[0] === '--load') {
  const opt = (name) => Number(argv[argv.indexOf(name) + 1]);
  const result = await runPacedLoad(argv[1], { rate: opt('--rate'), duration: opt('--duration'), connections: opt('--connections') });
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else if (argv[0] === '--serve') {
  const opt = (name) => argv[argv.indexOf(name) + 1];
  const kind = argv[1];
  const port = Number(opt('--port'));
  const server = kind === 'upstream' ? await startUpstream(port) : await startProxy(kind, port, opt('--upstream'));
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
} else {
  const stopChildren = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stopChildren();
      process.exit(130);
    });
  }
  try {
    await main();
  } finally {
    stopChildren();
  }
}
