/**
 * `npm run conformance`: the MCP conformance suite's server scenarios
 * (@modelcontextprotocol/conformance, run on Node 22 via npx) against the
 * conformance-style upstream (test/fixtures/conformance-upstream), first
 * directly, then through the gateway with that same server as an HTTP, a stdio
 * and a legacy HTTP+SSE upstream. The suite's client sends no token, so a
 * small shim in front of the gateway adds a valid one (obtained from the real
 * demo authorization server); everything else is the gateway as deployed:
 * authentication, the policy (test/fixtures/conformance-upstream/policy),
 * list filtering and audit.
 *
 * Every scenario that passes directly must pass through the gateway: the
 * script exits 1 if one does not, and prints the table docs/transports.md
 * records.
 *
 *   npm run conformance [-- --upstreams http,stdio --revisions 2025-11-25 --scenario tools-call-sampling]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { validateConfig, type GatewayConfigInput } from '../src/config/index.js';
import { startDemoAuthorizationServer } from '../src/demo/authorization-server.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/index.js';
import { bundleFixture, fixtureStdioCommand, startFixtureServer, type FixtureServer } from '../test/fixtures/conformance-upstream/launch.js';
import { findFreePort } from '../test/helpers/ports.js';

/** Pinned, so a run means the same thing next month. */
const CONFORMANCE_PACKAGE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
const POLICY_DIRECTORY = new URL('../test/fixtures/conformance-upstream/policy/', import.meta.url).pathname;
const UPSTREAMS = ['http', 'stdio', 'legacy-sse'] as const;
type UpstreamKind = (typeof UPSTREAMS)[number];
const REVISIONS = ['2025-11-25', '2026-07-28'] as const;

type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
interface ScenarioResult {
  passed: boolean;
  counts: Record<CheckStatus, number>;
  failures: string[];
  /** `id=STATUS` of every check except the INFO ones (sorted), to compare runs check by check. */
  signature: string[];
}
type RunResults = Map<string, ScenarioResult>;

const { values } = parseArgs({
  options: {
    upstreams: { type: 'string', default: UPSTREAMS.join(',') },
    revisions: { type: 'string', default: REVISIONS.join(',') },
    scenario: { type: 'string' },
    json: { type: 'string' },
  },
});
const upstreams = values.upstreams.split(',') as UpstreamKind[];
const revisions = values.revisions.split(',');
const work = mkdtempSync(join(tmpdir(), 'mcp-gw-conformance-'));
const started = performance.now();

function log(message: string): void {
  process.stderr.write(`[conformance ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

/** One suite run; results come from the checks.json files it writes. */
async function runSuite(url: string, revision: string, label: string): Promise<RunResults> {
  const output = join(work, `${label}-${revision}`);
  const args = ['-y', '-p', 'node@22', '-p', CONFORMANCE_PACKAGE, 'conformance', 'server', '--url', url, '--spec-version', revision, '--suite', 'all', '-o', output];
  if (values.scenario) args.push('--scenario', values.scenario);
  await new Promise<void>((resolve) => {
    // Exit code 1 only means some check failed; the results are read from the files either way.
    execFile('npx', args, { maxBuffer: 64 * 1024 * 1024, timeout: 10 * 60_000 }, () => resolve());
  });
  const results: RunResults = new Map();
  for (const directory of readdirSync(output)) {
    const scenario = directory.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    const checks = JSON.parse(readFileSync(join(output, directory, 'checks.json'), 'utf8')) as Array<{ id: string; status: CheckStatus; errorMessage?: string }>;
    const counts = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0, SKIPPED: 0 };
    for (const check of checks) counts[check.status] = (counts[check.status] ?? 0) + 1;
    const failures = checks.filter((check) => check.status === 'FAILURE').map((check) => `${check.id}: ${check.errorMessage ?? ''}`.slice(0, 300));
    const signature = checks.filter((check) => check.status !== 'INFO').map((check) => `${check.id}=${check.status}`).sort();
    results.set(scenario, { passed: counts.FAILURE === 0, counts, failures, signature });
  }
  return results;
}

/** Adds the test token to every request and passes everything else (Host and Origin included) through unchanged. */
async function startTokenShim(shimPort: number, gatewayPort: number, token: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: gatewayPort, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${token}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(shimPort, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server };
}

function upstreamConfig(kind: UpstreamKind, http: FixtureServer, legacy: FixtureServer | undefined): GatewayConfigInput['upstream'] {
  if (kind === 'http') return { url: `${http.origin}/mcp` };
  if (kind === 'legacy-sse') return { type: 'legacy-sse', url: `${legacy!.origin}/sse` };
  return { type: 'stdio', ...fixtureStdioCommand([], bundle) };
}

async function runThroughGateway(kind: UpstreamKind, http: FixtureServer, legacy: FixtureServer | undefined): Promise<Map<string, RunResults>> {
  const port = await findFreePort();
  const shimPort = await findFreePort();
  const resourceUrl = `http://127.0.0.1:${port}/mcp`;
  const as = await startDemoAuthorizationServer({ resources: [{ resource: resourceUrl, scopes: ['conformance'] }], accessTokenTtlSeconds: 3600 });
  const config = validateConfig({
    listen: { host: '127.0.0.1', port },
    resource: { url: resourceUrl },
    authorizationServers: [{ issuer: as.issuer }],
    upstream: upstreamConfig(kind, http, legacy),
    policy: { directory: POLICY_DIRECTORY, watch: false, pollIntervalSeconds: 0 },
    audit: { sink: 'file', file: join(work, `audit-${kind}.jsonl`) },
    // The shim is the entry point clients see, as an ingress would be: its origin and host are the allowed ones.
    security: { allowedOrigins: [`http://127.0.0.1:${shimPort}`], allowedHosts: [`127.0.0.1:${shimPort}`, `localhost:${shimPort}`] },
    logging: { level: 'warn' },
    shutdown: { drainTimeoutMs: 500 },
  } satisfies GatewayConfigInput);
  const gateway = await createGateway(config, { logger: createLogger('warn') });
  await gateway.start();
  await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));
  const { accessToken } = await as.obtainUserToken({ resource: resourceUrl, scope: 'conformance' });
  const shim = await startTokenShim(shimPort, port, accessToken);
  const results = new Map<string, RunResults>();
  try {
    for (const revision of revisions) {
      log(`through the gateway, ${kind} upstream, ${revision}`);
      results.set(revision, await runSuite(shim.url, revision, `gateway-${kind}`));
    }
  } finally {
    shim.server.closeAllConnections();
    shim.server.close();
    await gateway.stop();
    await as.close();
  }
  // Every answered request left an audit record: transparency does not skip the audit trail.
  const audit = readFileSync(join(work, `audit-${kind}.jsonl`), 'utf8').split('\n').filter(Boolean);
  if (audit.length === 0) throw new Error(`no audit records for the ${kind} upstream`);
  if (audit.some((line) => line.includes(accessToken))) throw new Error('a token reached the audit trail');
  return results;
}

function cell(result: ScenarioResult | undefined, baseline?: ScenarioResult): string {
  if (!result) return '–';
  const warnings = result.counts.WARNING > 0 ? ` (${result.counts.WARNING} warn)` : '';
  // * : same verdict, but some check ended differently than directly (listed below the table).
  const differs = baseline && result.signature.join() !== baseline.signature.join() ? '*' : '';
  return `${result.passed ? 'pass' : 'FAIL'}${warnings}${differs}`;
}

// Bundled once: the stdio runs start a child per session, and a bundle starts in a quarter of the time tsx takes.
const bundle = await bundleFixture();
const http = await startFixtureServer('http', [], bundle);
const legacy = upstreams.includes('legacy-sse') ? await startFixtureServer('legacy-sse', [], bundle) : undefined;
const direct = new Map<string, RunResults>();
const through = new Map<UpstreamKind, Map<string, RunResults>>();
try {
  for (const revision of revisions) {
    log(`directly, ${revision}`);
    direct.set(revision, await runSuite(`${http.origin}/mcp`, revision, 'direct'));
  }
  for (const kind of upstreams) through.set(kind, await runThroughGateway(kind, http, legacy));
} finally {
  await Promise.all([http.stop(), legacy?.stop()]);
}

const regressions: string[] = [];
const differences: string[] = [];
const lines: string[] = [];
for (const revision of revisions) {
  lines.push('', `### ${revision}`, '', `| scenario | direct | ${upstreams.join(' | ')} |`, `|---|---|${upstreams.map(() => '---|').join('')}`);
  const directResults = direct.get(revision)!;
  for (const [scenario, result] of [...directResults].sort(([a], [b]) => a.localeCompare(b))) {
    const row = upstreams.map((kind) => {
      const gatewayResult = through.get(kind)?.get(revision)?.get(scenario);
      if (result.passed && !gatewayResult?.passed) regressions.push(`${revision} ${scenario} via ${kind}: ${gatewayResult?.failures.join('; ') ?? 'not run'}`);
      if (gatewayResult && gatewayResult.signature.join() !== result.signature.join()) {
        const only = (a: string[], b: string[]) => [...new Set(a.filter((entry) => !b.includes(entry)))].join(', ') || 'none';
        differences.push(`${revision} ${scenario} via ${kind}: directly ${only(result.signature, gatewayResult.signature)}; through the gateway ${only(gatewayResult.signature, result.signature)}`);
      }
      return cell(gatewayResult, result);
    });
    lines.push(`| ${scenario} | ${cell(result)} | ${row.join(' | ')} |`);
  }
}
if (differences.length > 0) lines.push('', 'Checks that ended differently (same scenario verdict unless the table says otherwise):', '', ...differences.map((line) => `- ${line}`));
process.stdout.write(`${lines.join('\n')}\n\n`);
if (values.json) {
  const serialize = (runs: Map<string, RunResults>) => Object.fromEntries([...runs].map(([revision, results]) => [revision, Object.fromEntries(results)]));
  writeFileSync(values.json, JSON.stringify({ direct: serialize(direct), gateway: Object.fromEntries([...through].map(([kind, runs]) => [kind, serialize(runs)])) }, null, 2));
}
log(`done; raw results in ${work}`);
if (regressions.length > 0) {
  process.stderr.write(`\nScenarios that pass directly but not through the gateway:\n${regressions.map((line) => `  - ${line}`).join('\n')}\n`);
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
process.exit(0);
