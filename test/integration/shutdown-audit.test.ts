/**
 * SIGTERM under load, on a real gateway process: every request that got an
 * answer has its audit record on disk when the process exits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { startDemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { startDemoUpstream } from '../../src/demo/upstream-server.js';
import { findFreePort } from '../helpers/ports.js';

const ENTRY = new URL('../../src/cli/run.ts', import.meta.url).pathname;
// node with the tsx loader (not the tsx CLI, which relays signals through a second process).
const TSX_LOADER = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it('SIGTERM during load: the audit file has exactly one record per answered request', async () => {
  const port = await findFreePort();
  const mcpUrl = `http://127.0.0.1:${port}/mcp`;
  const as = await startDemoAuthorizationServer({ resources: [{ resource: mcpUrl, scopes: ['tickets:read'] }] });
  const upstream = await startDemoUpstream();
  cleanups.push(() => as.close(), () => upstream.close());
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gw-sigterm-'));
  const auditFile = join(directory, 'audit.jsonl');
  writeFileSync(
    join(directory, 'gateway.yaml'),
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `resource: { url: "${mcpUrl}" }`,
      `authorizationServers: [{ issuer: "${as.issuer}" }]`,
      `upstream: { url: "${upstream.url}" }`,
      `audit: { sink: file, file: audit.jsonl }`,
      `shutdown: { drainTimeoutMs: 3000 }`,
      `logging: { level: warn }`,
    ].join('\n'),
  );
  const gateway = spawn(process.execPath, ['--import', TSX_LOADER, ENTRY, 'serve', '--config', join(directory, 'gateway.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => gateway.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
  });
  let stderr = '';
  gateway.stderr.on('data', (chunk) => (stderr += chunk));

  // Wait until ready.
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error(`gateway not ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const token = (await as.obtainUserToken({ resource: mcpUrl, scope: 'tickets:read' })).accessToken;

  const dispatcher = new Agent({ connections: 8 });
  cleanups.push(() => dispatcher.close());
  let answered = 0;
  let stop = false;
  const worker = async (index: number) => {
    for (let i = 0; !stop && i < 2000; i += 1) {
      try {
        const response = await undiciFetch(mcpUrl, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'echo',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: `${index}-${i}`, method: 'tools/call', params: { name: 'echo', arguments: { text: 'load' } } }),
          dispatcher,
        });
        await response.text();
        answered += 1;
      } catch {
        // Refused or reset after the SIGTERM: never answered, so no record is owed.
        if (stop) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, index) => worker(index));
  // Let the load run (and the gateway warm up) before the signal lands in the middle of it.
  while (answered < 50 && Date.now() < deadline + 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
  const answeredBeforeSignal = answered;
  gateway.kill('SIGTERM');
  const code = await exited;
  stop = true;
  await Promise.all(workers);

  expect(code).toBe(0);
  expect(answeredBeforeSignal).toBeGreaterThanOrEqual(50);
  const records = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event: string; outcome: { status: number } });
  expect(records.every((record) => record.event === 'mcp.message')).toBe(true);
  expect(records.length).toBe(answered);
});
