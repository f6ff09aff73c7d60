/**
 * The gateway under test: the CLI as shipped (`bin/mcp-auth-gateway.js serve`, the bundle) with
 * a generated configuration that keeps the whole request path on: JWT
 * verification against the bench JWKS, a policy, audit records to a file
 * (asynchronous writes, the default), metrics, a service credential towards
 * the upstream, session binding. Only the per-principal rate limit is off:
 * the one-token runs would hit it, which is the limit working, not its cost.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { TOOL_NAME, TOOL_SCOPE } from '../fixtures/payloads.js';
import { REPO_ROOT, startProcess, type ServerProcess } from './processes.js';
import type { TokenSource } from './token-source.js';

export interface BenchGatewayConfig {
  configFile: string;
  auditFile: string;
}

/**
 * Writes the bench configuration and policy into `workDir`. `audit` varies the
 * audit trail only (scenario audit): off, async writes (the default), sync writes.
 */
export function writeGatewayConfig(
  workDir: string,
  { upstreamUrl, tokens, audit = 'async' }: { upstreamUrl: string; tokens: TokenSource; audit?: 'off' | 'async' | 'sync' },
): BenchGatewayConfig {
  const suffix = audit === 'async' ? '' : `-audit-${audit}`;
  const policyDir = path.join(workDir, 'policy');
  mkdirSync(policyDir, { recursive: true });
  // A small policy of the usual shape: the benchmarked tool, a few others, a glob, the listen stream.
  writeFileSync(
    path.join(policyDir, 'bench.yaml'),
    `version: 1
settings:
  unmatched: deny
scopes:
  ${TOOL_SCOPE}: Search the document store
  docs:write: Change documents
  mcp:tools: Use the server
methods:
  - method: "*"
    id: bench-methods
    scopes: [mcp:tools]
tools:
  - name: ${TOOL_NAME}
    id: bench-search
    scopes: [${TOOL_SCOPE}]
  - name: update_document
    scopes: [docs:write]
  - name: "admin_*"
    scopes: [docs:write]
    when:
      groups: { contains: admins }
`,
  );
  const auditFile = path.join(workDir, `gateway-audit${suffix}.jsonl`);
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    resource: { url: tokens.audience, name: 'bench' },
    authorizationServers: [{ issuer: tokens.issuer, jwksUri: tokens.jwksUrl, audiences: [tokens.audience], algorithms: ['ES256'] }],
    upstream: { url: upstreamUrl, credential: { header: 'X-API-Key', value: 'bench-service-key' } },
    policy: { directory: policyDir },
    audit: audit === 'off' ? { enabled: false } : { enabled: true, sink: 'file', file: auditFile, write: audit },
    metrics: { enabled: true },
    // One token sends thousands of requests a second: the limit would answer 429, which measures nothing.
    limits: { rateLimit: { enabled: false } },
    logging: { level: 'info' },
  };
  const configFile = path.join(workDir, `gateway${suffix}.yaml`);
  // JSON is YAML.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { configFile, auditFile };
}

export interface GatewayReady {
  origin: string;
  /** ms from spawn to the "gateway listening" log line. */
  listeningMs: number;
  /** ms from spawn to the first /readyz 200. */
  readyMs: number;
}

/** Starts the compiled gateway (this checkout's, or the one in `root`) and waits until /readyz answers 200. */
export async function startGateway(cpus: string | undefined, configFile: string, nodeArgs: string[] = [], root = REPO_ROOT): Promise<ServerProcess<GatewayReady>> {
  const started = performance.now();
  const gateway = await startProcess({
    name: 'gateway',
    cpus,
    command: [process.execPath, [...nodeArgs, path.join(root, 'bin/mcp-auth-gateway.js'), 'serve', '--config', configFile]],
    ready: (line, stream) => {
      if (stream !== 'stderr' || !line.includes('gateway listening')) return undefined;
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      return entry.msg === 'gateway listening' ? entry.address : undefined;
    },
  });
  const listeningMs = performance.now() - started;
  const origin = gateway.ready;
  const deadline = performance.now() + 10_000;
  while ((await readyzStatus(origin)) !== 200) {
    if (performance.now() > deadline) {
      await gateway.stop();
      throw new Error(`gateway at ${origin} listened but /readyz did not answer 200 within 10 s\n${gateway.stderrTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const readyMs = performance.now() - started;
  return { ...gateway, ready: { origin, listeningMs, readyMs } };
}

function readyzStatus(origin: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${origin}/readyz`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
    req.end();
  });
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/ is missing or older than src/ (the gateway is measured as shipped). */
export function ensureBuild(log: (line: string) => void): void {
  const entry = path.join(REPO_ROOT, 'dist/bundle/mcp-auth-gateway.js');
  let builtAt = 0;
  try {
    builtAt = statSync(entry).mtimeMs;
  } catch {
    // not built
  }
  if (builtAt > 0 && builtAt >= newestMtimeMs(path.join(REPO_ROOT, 'src'))) return;
  log('dist/ is missing or older than src/: npm run build');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}
