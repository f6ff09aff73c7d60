/**
 * `npm run bench [-- options]`: the gateway's performance against a bare Node
 * proxy and a hand-assembled Express + MCP SDK gateway, in front of the same
 * trivial upstream, with the issue's targets checked (docs/performance.md).
 * Not a test: it reports, it never fails on a figure.
 *
 * Every server runs in its own process pinned to the server CPU (taskset -c 0);
 * wrk, the bench's own clients and this harness run on the client CPU (1).
 * Results: a markdown report on stdout, JSON in bench/results/<time>.json and `--out`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { CLIENT_HEADERS, MODE_HEADER, REQUEST_BODY, RESULT_JSON, RESULT_SSE } from './fixtures/payloads.js';
import { TARGETS, type BenchContext, type BenchOptions, type TargetName } from './harness/context.js';
import { ensureBuild, startGateway, writeGatewayConfig } from './harness/gateway-process.js';
import { chooseLoadGenerator, type LoadGeneratorName } from './harness/load-generator.js';
import { choosePinning, killChildrenOnExit, REPO_ROOT, startBenchServer, type ServerProcess } from './harness/processes.js';
import { checkTargets, formatReport, type BenchResults } from './harness/report.js';
import { startTokenSource } from './harness/token-source.js';
import { runAuditCost } from './scenarios/audit-cost.js';
import { runBaselineComparison } from './scenarios/baseline.js';
import { runFixedRate } from './scenarios/fixed-rate.js';
import { runSaturation } from './scenarios/saturation.js';
import { runPolicy, runStartup } from './scenarios/startup-and-policy.js';
import { runFirstEvent, runIdleStreams, runLargeResults } from './scenarios/streams.js';

const SCENARIOS = ['policy', 'startup', 'saturation', 'audit', 'latency', 'first-event', 'large', 'streams', 'baseline'] as const;

const USAGE = `npm run bench -- [options]

  --quick                 short runs (under 90 s): proves the harness works; figures are indicative only
  --only LIST             scenarios, comma-separated: ${SCENARIOS.join(',')}
  --rounds N              interleaved saturation rounds (default 5, quick 3)
  --duration S            seconds per saturation run (default 10, quick 1)
  --connections N         wrk connections (default 32)
  --rate N                fixed-rate latency, requests/s (default 300)
  --streams N             idle SSE streams held through the gateway (default 5000)
  --hold S                seconds the streams are held (default 600, quick 10)
  --load-generator NAME   wrk (default; installed with apt when missing) or autocannon
  --server-cpus LIST      taskset CPU list for the servers (default 0)
  --client-cpus LIST      taskset CPU list for load generators and the harness (default 1)
  --no-build              do not rebuild dist/ even when src/ is newer
  --out FILE              also write the JSON results here
  --baseline DIR          compare this build with the gateway built in DIR (another checkout, e.g.
                          git worktree add DIR <commit> && (cd DIR && npm ci && npm run build)):
                          both loaded at the same time, req/s of this ÷ that (scenario baseline;
                          runs by default when --baseline is given)
  --profile DIR           write CPU profiles of the gateways (node --cpu-prof) into DIR when they stop:
                          gateway.cpuprofile (audit async), and with --only audit also
                          gateway-audit-off.cpuprofile and gateway-audit-sync.cpuprofile;
                          open them in Chrome DevTools or speedscope (combine with --only saturation or
                          --only audit; comparing the audit-off profile with the async one shows
                          where the trail's time goes)
`;

function parseOptions(): { options: BenchOptions; loadGenerator: LoadGeneratorName | undefined; serverCpus: string; clientCpus: string } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      streams: { type: 'string' },
      hold: { type: 'string' },
      'load-generator': { type: 'string' },
      'server-cpus': { type: 'string', default: '0' },
      'client-cpus': { type: 'string', default: '1' },
      'no-build': { type: 'boolean', default: false },
      out: { type: 'string' },
      profile: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const number = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new TypeError(`--${name} must be a positive number, e.g. --${name} ${fallback}`);
    return parsed;
  };
  const baselineDir = values.baseline === undefined ? undefined : path.resolve(values.baseline);
  if (baselineDir !== undefined && !existsSync(path.join(baselineDir, 'dist/bundle/mcp-auth-gateway.js'))) {
    throw new TypeError(`--baseline ${baselineDir}: no built gateway there (dist/bundle/mcp-auth-gateway.js); run: (cd ${baselineDir} && npm ci && npm run build)`);
  }
  const scenarios = values.only ? values.only.split(',') : SCENARIOS.filter((name) => name !== 'baseline' || baselineDir !== undefined);
  for (const name of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new TypeError(`--only: unknown scenario "${name}" (one of ${SCENARIOS.join(', ')})`);
  }
  if (scenarios.includes('baseline') && baselineDir === undefined) throw new TypeError('scenario baseline needs --baseline DIR');
  const generator = values['load-generator'];
  if (generator !== undefined && generator !== 'wrk' && generator !== 'autocannon') throw new TypeError('--load-generator must be wrk or autocannon');
  return {
    options: {
      quick,
      rounds: number(values.rounds, quick ? 3 : 5, 'rounds'),
      durationSeconds: number(values.duration, quick ? 1 : 10, 'duration'),
      warmupSeconds: quick ? 1 : 3,
      connections: number(values.connections, 32, 'connections'),
      rate: number(values.rate, 300, 'rate'),
      rateSeconds: quick ? 1 : 10,
      rateRounds: quick ? 1 : 3,
      ratePayloads: quick ? ['json'] : ['json', 'sse'],
      firstEventCount: quick ? 100 : 500,
      streams: number(values.streams, 5000, 'streams'),
      holdSeconds: number(values.hold, quick ? 10 : 600, 'hold'),
      rssSampleSeconds: quick ? 1 : 5,
      largeSeconds: quick ? 1 : 5,
      largeConnections: 8,
      largeTimingCount: quick ? 5 : 20,
      startupRuns: quick ? 3 : 10,
      scenarios,
      out: values.out,
      profileDir: values.profile === undefined ? undefined : path.resolve(values.profile),
      baselineDir,
      build: !values['no-build'],
    },
    loadGenerator: generator,
    serverCpus: values['server-cpus'],
    clientCpus: values['client-cpus'],
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Every target answers the bench request as the upstream would, and the two gateways refuse a bad token. */
async function checkTargetsAnswer(urls: Record<TargetName, string>, token: string): Promise<void> {
  for (const target of TARGETS) {
    const url = new URL(urls[target]);
    const client = new Client(url.origin);
    try {
      for (const [mode, expected] of [['json', RESULT_JSON], ['sse', RESULT_SSE]] as const) {
        const response = await client.request({ method: 'POST', path: url.pathname, headers: { ...CLIENT_HEADERS, [MODE_HEADER]: mode, authorization: `Bearer ${token}` }, body: REQUEST_BODY });
        const body = await response.body.text();
        if (response.statusCode !== 200 || body !== expected) throw new Error(`${target} (${urls[target]}) answered ${response.statusCode} ${JSON.stringify(body.slice(0, 300))} to the ${mode} bench request`);
      }
      if (target === 'gateway' || target === 'reference') {
        const response = await client.request({ method: 'POST', path: url.pathname, headers: { ...CLIENT_HEADERS, authorization: 'Bearer not-a-token' }, body: REQUEST_BODY });
        await response.body.dump();
        if (response.statusCode !== 401) throw new Error(`${target} answered ${response.statusCode} to a bad token: authentication is not on`);
      }
    } finally {
      await client.close();
    }
  }
}

function describeMachine(pinning: string, generator: LoadGeneratorName) {
  const wrk = generator === 'wrk' ? spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() : undefined;
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    // Not availableParallelism(): the harness has pinned itself to the client CPUs by now.
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    pinning,
    loadGenerator: wrk ?? generator,
  };
}

const benchStarted = performance.now();

async function main(): Promise<number> {
  const { options, loadGenerator, serverCpus, clientCpus } = parseOptions();
  let interrupted = false;
  killChildrenOnExit(() => (interrupted = true));
  const startedAt = new Date();
  const pinning = choosePinning(serverCpus, clientCpus);
  const generator = options.scenarios.some((s) => s === 'saturation' || s === 'large') ? chooseLoadGenerator(loadGenerator, log) : (loadGenerator ?? 'wrk');
  const machine = describeMachine(pinning.description, generator);
  if (options.build) ensureBuild(log);
  log(`mcp-auth-gateway benchmark${options.quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cpus} CPUs, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);
  log(`pinning: ${pinning.description}; load generator: ${machine.loadGenerator}`);
  if (machine.loadAverageAtStart[0]! > 0.5) log(`warning: the machine is busy (load average ${machine.loadAverageAtStart[0]}): figures will be noisy`);

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-bench-'));
  const profileArgs = (name: string) => (options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : []);
  const servers: Array<ServerProcess<unknown>> = [];
  const tokens = await startTokenSource();
  const results: BenchResults = {};
  const errors: Record<string, string> = {};
  try {
    const many = await tokens.mint(1000, 6 * 3600);
    const tokenFiles = { one: tokens.writeTokenFile(path.join(workDir, 'tokens-1.txt'), many.slice(0, 1)), many: tokens.writeTokenFile(path.join(workDir, 'tokens-1000.txt'), many) };

    const upstream = await startBenchServer('upstream', pinning.server, 'fixtures/upstream.ts');
    servers.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.ready}/mcp`;
    const { configFile, auditFile } = writeGatewayConfig(workDir, { upstreamUrl, tokens });
    // In parallel: start-up is measured on its own (scenario startup), not here.
    const [bare, reference, gateway] = await Promise.all([
      startBenchServer('bare proxy', pinning.server, 'fixtures/bare-proxy.ts', ['--upstream', upstreamUrl]),
      startBenchServer('reference gateway', pinning.server, 'reference-gateway/server.ts', [
        '--upstream', upstreamUrl, '--jwks', tokens.jwksUrl, '--issuer', tokens.issuer, '--audience', tokens.audience, '--audit', path.join(workDir, 'reference-audit.jsonl'),
      ]),
      startGateway(pinning.server, configFile, profileArgs('gateway')),
    ]);
    servers.push(bare, reference, gateway);

    const urls: Record<TargetName, string> = {
      direct: upstreamUrl,
      'bare-proxy': `http://127.0.0.1:${bare.ready}/mcp`,
      reference: `http://127.0.0.1:${reference.ready}/mcp`,
      gateway: `${gateway.ready.origin}/mcp`,
    };
    await checkTargetsAnswer(urls, many[0]!);
    log('all four targets answer the bench request; the gateway and the reference refuse a bad token');

    const ctx: BenchContext = {
      options,
      pinning,
      generator,
      workDir,
      urls,
      pids: { direct: upstream.pid, 'bare-proxy': bare.pid, reference: reference.pid, gateway: gateway.pid },
      upstreamPid: upstream.pid,
      gateway,
      gatewayConfigFile: configFile,
      tokenFiles,
      log,
    };
    const run = async (name: (typeof SCENARIOS)[number], title: string, work: () => Promise<void>) => {
      if (!options.scenarios.includes(name) || interrupted) return;
      log(`\n== ${title}`);
      const started = performance.now();
      try {
        await work();
      } catch (error) {
        errors[name] = error instanceof Error ? error.message : String(error);
        log(`  FAILED: ${errors[name]}`);
      }
      log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    };
    await run('policy', 'policy decisions, 10,000 rules', async () => void (results.policy = await runPolicy(ctx)));
    await run('startup', 'gateway start-up', async () => void (results.startup = await runStartup(ctx)));
    await run('saturation', 'saturation', async () => void (results.saturation = await runSaturation(ctx)));
    await run('audit', 'audit cost: the gateway with audit off, async and sync writes', async () => {
      const variants = await Promise.all(
        (['off', 'sync'] as const).map((audit) => startGateway(pinning.server, writeGatewayConfig(workDir, { upstreamUrl, tokens, audit }).configFile, profileArgs(`gateway-audit-${audit}`))),
      );
      servers.push(...variants);
      const [off, sync] = variants;
      const gatewayFor = (server: typeof gateway) => ({ url: `${server.ready.origin}/mcp`, pid: server.pid });
      try {
        results.audit = await runAuditCost(ctx, { off: gatewayFor(off!), async: gatewayFor(gateway), sync: gatewayFor(sync!) });
      } finally {
        // Stopped now so they do not share the CPU with later scenarios (stop is idempotent).
        await Promise.all(variants.map((variant) => variant.stop()));
      }
    });
    await run('baseline', `this build against the build in ${options.baselineDir}, paired`, async () => {
      const baselineDir = options.baselineDir!;
      const config = writeGatewayConfig(mkdtempSync(path.join(workDir, 'baseline-')), { upstreamUrl, tokens });
      const baseline = await startGateway(pinning.server, config.configFile, [], baselineDir);
      servers.push(baseline);
      try {
        results.baseline = await runBaselineComparison(ctx, `${baseline.ready.origin}/mcp`, baselineDir);
      } finally {
        await baseline.stop();
      }
    });
    await run('latency', `fixed rate (${options.rate}/s, one connection)`, async () => void (results.fixedRate = await runFixedRate(ctx)));
    await run('first-event', 'SSE time to first event', async () => void (results.firstEvent = await runFirstEvent(ctx)));
    await run('large', 'large results', async () => void (results.large = await runLargeResults(ctx)));
    await run('streams', `${options.streams} idle SSE streams`, async () => {
      results.idleStreams = await runIdleStreams(ctx, 'gateway', options.holdSeconds);
      // Baseline for the optimization work: what node and undici alone hold per stream (skipped in --quick).
      if (!options.quick) results.idleStreamsBareProxy = await runIdleStreams(ctx, 'bare-proxy', Math.min(60, options.holdSeconds));
    });

    let auditBytes = 0;
    try {
      auditBytes = statSync(auditFile).size;
    } catch {
      // no record written (yet): reported as 0
    }
    log(`\ngateway audit file: ${(auditBytes / 2 ** 20).toFixed(1)} MB written during the run`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await tokens.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  const checks = checkTargets(results);
  const header = [
    `## mcp-auth-gateway benchmark, ${startedAt.toISOString()}${options.quick ? ' — QUICK RUN: short runs, few rounds, figures indicative only' : ''}${interrupted ? ' — INTERRUPTED' : ''}`,
    '',
    `machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, ${machine.kernel}, node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `pinning: ${machine.pinning}; load generator: ${machine.loadGenerator}`,
  ];
  process.stdout.write(`${formatReport(results, options, header, checks)}\n`);
  for (const [name, message] of Object.entries(errors)) process.stdout.write(`\nscenario ${name} FAILED: ${message}\n`);

  const json = { version: 1, quick: options.quick, interrupted, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine: { ...machine, loadAverageAtEnd: os.loadavg() }, options, results, targets: checks, errors };
  const resultsDir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(json, null, 2));
  if (options.out) writeFileSync(options.out, JSON.stringify(json, null, 2));
  log(`\nJSON: ${path.relative(process.cwd(), file)}${options.out ? ` and ${options.out}` : ''}`);
  const totalSeconds = (performance.now() - benchStarted) / 1000;
  log(`total ${totalSeconds.toFixed(0)} s${options.quick && totalSeconds > 90 ? ' (a quick run should take under 90 s: was the machine busy?)' : ''}`);
  return interrupted ? 130 : Object.keys(errors).length > 0 ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  log(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
process.exit();
