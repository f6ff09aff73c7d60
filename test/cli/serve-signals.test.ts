/**
 * `serve` as Kubernetes runs it: a real process that gets SIGTERM. Readiness must
 * turn false at once, the lame-duck period keeps serving, and the process exits 0
 * within lameDuckMs + drainTimeoutMs (what terminationGracePeriodSeconds must cover).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { findFreePort } from '../helpers/ports.js';

const ENTRY = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;

let child: ChildProcess | undefined;
let as: DemoAuthorizationServer | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await as?.close();
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('serve and SIGTERM', () => {
  it('reports not ready at once, keeps serving through the lame-duck period and exits 0 within the budget', async () => {
    const port = await findFreePort();
    const origin = `http://127.0.0.1:${port}`;
    as = await startDemoAuthorizationServer({ resources: [{ resource: `${origin}/mcp`, scopes: ['tickets:read'] }] });
    const dir = mkdtempSync(join(tmpdir(), 'mcp-gw-signal-'));
    const configPath = join(dir, 'gateway.yaml');
    writeFileSync(
      configPath,
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `resource: { url: "${origin}/mcp" }`,
        `authorizationServers: [{ issuer: "${as.issuer}" }]`,
        'upstream: { url: "http://127.0.0.1:9/mcp" }',
        'shutdown: { lameDuckMs: 1000, drainTimeoutMs: 500 }',
      ].join('\n'),
    );
    const output: string[] = [];
    const proc = spawn(TSX, [ENTRY, 'serve', '--config', configPath], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk) => output.push(String(chunk)));
    proc.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );

    await waitFor(async () => (await fetch(`${origin}/readyz`)).status === 200, 15_000);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');

    await waitFor(async () => (await fetch(`${origin}/readyz`, { headers: { connection: 'close' } })).status === 503, 500);
    // Still accepting new connections during the lame-duck period.
    expect((await fetch(`${origin}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);

    const { code, signal } = await exited;
    const elapsedMs = Date.now() - signalledAt;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(1000 + 500 + 1500);
    expect(output.join('')).toContain('"msg":"shutting down"');
  });
});
