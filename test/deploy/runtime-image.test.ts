/**
 * What the Dockerfile's runtime stage contains, assembled and run without Docker:
 * the compiled and bundled gateway (`npm run build`, as the build stage), package.json, bin/ and
 * node_modules from `npm ci --omit=dev --ignore-scripts` (the prod-deps stage's command).
 * It then runs with the root filesystem mounted read-only (a private mount namespace) in the
 * layout the Kubernetes manifests give it — the baseline policy in a ConfigMap-style volume,
 * probes and metrics on the admin port, audit records on stdout and the log on stderr —,
 * serves a real token round trip and exits 0 on SIGTERM: proof that the image needs no dev
 * dependency and writes nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream-server.js';
import { writeConfigMapVolume } from '../helpers/kubernetes.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { findFreePort } from '../helpers/ports.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const DEV_ONLY = ['typescript', 'vitest', 'tsx', 'oidc-provider', 'dockerfile-utils'];
const KEY = 'runtime-image-test-key-0123456789';

let work: string;
let app: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcp-gw-image-'));
  app = join(work, 'app');
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')]);
  // The rest of `npm run build`: the bundle bin/mcp-auth-gateway.js runs.
  await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--outdir', join(app, 'dist/bundle')]);
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(app, file));
  cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeout: 120_000 });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the runtime image contents', () => {
  it('hold production dependencies only', () => {
    expect(existsSync(join(app, 'node_modules/hono'))).toBe(true);
    // The stdio and legacy-sse bridges run the SDK's server transport (docs/transports.md).
    expect(existsSync(join(app, 'node_modules/@modelcontextprotocol/sdk'))).toBe(true);
    expect(DEV_ONLY.filter((name) => existsSync(join(app, 'node_modules', name)))).toEqual([]);
    expect(existsSync(join(app, 'dist/demo'))).toBe(false);
  });

  it('load every part of the bundle, the ones loaded only when configured (stdio, legacy SSE, AS facade) included', async () => {
    const chunks = readdirSync(join(app, 'dist/bundle/chunks')).filter((name) => name.endsWith('.js'));
    expect(chunks.some((name) => name.startsWith('stdio-'))).toBe(true);
    expect(chunks.some((name) => name.startsWith('authorization-server-'))).toBe(true);
    for (const name of chunks) {
      // Outside the repository's node_modules: only the image's production dependencies resolve.
      const loaded = await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(app, 'dist/bundle/chunks', name))}); console.log('loaded')`], { cwd: app });
      expect(loaded.stdout.trim(), name).toBe('loaded');
    }
  });

  it('serve a token round trip on a read-only root filesystem, as the manifests lay it out, and exit 0 on SIGTERM', async () => {
    const [port, adminPort] = [await findFreePort(), await findFreePort()];
    const mcpUrl = `http://127.0.0.1:${port}/mcp`;
    const admin = `http://127.0.0.1:${adminPort}`;
    let as: DemoAuthorizationServer | undefined;
    let upstream: DemoUpstream | undefined;
    const policies = writeConfigMapVolume({ data: { 'baseline.yaml': readFileSync(join(ROOT, 'policies/baseline/baseline.yaml'), 'utf8') } });
    try {
      as = await startDemoAuthorizationServer({ resources: [{ resource: mcpUrl, scopes: ['mcp:tools'] }] });
      upstream = await startDemoUpstream({ requiredCredential: { header: 'x-api-key', value: KEY } });
      const configPath = join(work, 'gateway.yaml');
      writeFileSync(
        configPath,
        [
          `listen: { host: 127.0.0.1, port: ${port} }`,
          `resource: { url: "${mcpUrl}" }`,
          `authorizationServers: [{ issuer: "${as.issuer}" }]`,
          `upstream: { url: "${upstream.url}", credential: { header: X-API-Key, value: "\${env:UPSTREAM_API_KEY}" } }`,
          `policy: { directory: "${policies}" }`,
          `metrics: { port: ${adminPort}, host: 127.0.0.1 }`,
          'audit: { sink: stdout }',
          'shutdown: { drainTimeoutMs: 500 }',
        ].join('\n'),
      );
      // unshare execs the shell, which execs node: the spawned pid is node's, as PID 1 is in a container.
      const script = 'mount -o remount,bind,ro / && exec node "$APP/bin/mcp-auth-gateway.js" serve';
      const proc = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
        cwd: app,
        env: { PATH: process.env.PATH, APP: app, MCP_GATEWAY_CONFIG: configPath, UPSTREAM_API_KEY: KEY, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let [stdout, stderr] = ['', ''];
      proc.stdout.on('data', (chunk) => (stdout += String(chunk)));
      proc.stderr.on('data', (chunk) => (stderr += String(chunk)));
      const output = () => `${stderr}${stdout}`;
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

      const deadline = Date.now() + 15_000;
      let ready = false;
      while (!ready && Date.now() < deadline && proc.exitCode === null) {
        ready = await fetch(`${admin}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(ready, output()).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(404);
      expect(await (await fetch(`${admin}/metrics`)).text()).toMatch(/^mcp_gateway_policy_info\{.*policy_error="0"\} 1$/m);

      // The root really is read-only inside that namespace.
      const probe = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -o remount,bind,ro / && touch ${join(app, 'probe')}`]).then(
        () => 'writable',
        (error: { stderr?: string }) => error.stderr ?? '',
      );
      expect(probe).toContain('Read-only file system');

      const token = (await as.obtainUserToken({ resource: mcpUrl, scope: 'mcp:tools' })).accessToken;
      const response = await mcpPost(mcpUrl, INITIALIZE, bearer(token));
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('"result"');
      expect(upstream.seen.at(-1)?.headers['x-api-key']).toBe(KEY);

      proc.kill('SIGTERM');
      expect(await exited, output()).toBe(0);
      expect(output()).not.toMatch(/EROFS|read-only/i);
      // stdout: audit records only, flushed on SIGTERM; stderr: the operational log.
      const records = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
      expect(records.map((r) => [r.schema, r.what?.method, r.decision?.rules?.[0]?.id])).toEqual([['mcp-auth-gateway.audit/v1', 'initialize', 'baseline-methods']]);
      expect(stderr).toContain('gateway listening');
    } finally {
      await upstream?.close();
      await as?.close();
      rmSync(policies, { recursive: true, force: true });
    }
  });
});
