/**
 * The measurement behind docs/decisions/0002-one-child-per-session.md: what a
 * stdio child per client session costs (start and initialize latency, memory)
 * and what it buys in throughput, against one child shared by every client
 * (the gateway's stateless path, which is what a shared child would be).
 *
 *   npx tsx bench/stdio-sessions.ts            # SESSIONS=8 CALLS=200 STARTS=10
 *
 * Everything runs on 127.0.0.1 through the real gateway (token verification,
 * policy, audit to a discarded stream); the child is the conformance-style
 * fixture, bundled (as `node fixture.mjs`) and, for start latency, also with
 * the tsx loader (what a TypeScript server run from source costs).
 */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { bundleFixture, fixtureStdioCommand } from '../test/fixtures/conformance-upstream/launch.js';
import { startStack, type Stack } from '../test/helpers/stack.js';

const SESSIONS = Number(process.env['SESSIONS'] ?? 8);
const CALLS = Number(process.env['CALLS'] ?? 200);
const STARTS = Number(process.env['STARTS'] ?? 10);
/** Interleaved rounds of each load; the median round is reported (this machine is noisy). */
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function connect(stack: Stack, token: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

async function withStack<T>(command: { command: string; args: string[] }, run: (stack: Stack, token: string) => Promise<T>): Promise<T> {
  const stack = await startStack({
    config: (config) => ({ ...config, logging: { level: 'warn' }, upstream: { type: 'stdio', ...command, sessions: { max: 64, idleTimeoutSeconds: 0 } } as never }),
  });
  try {
    return await run(stack, await stack.obtainToken());
  } finally {
    await stack.close();
  }
}

async function measureStarts(label: string, command: { command: string; args: string[] }): Promise<void> {
  await withStack(command, async (stack, token) => {
    const latencies: number[] = [];
    const rss: number[] = [];
    for (let index = 0; index < STARTS; index += 1) {
      const started = performance.now();
      const client = await connect(stack, token);
      latencies.push(performance.now() - started);
      const info = await client.callTool({ name: 'gateway_test_info', arguments: {} }).catch(() => undefined);
      const pid = info ? (JSON.parse((info.content as Array<{ text: string }>)[0]!.text) as { pid: number }).pid : undefined;
      if (pid) rss.push(rssMiB(pid));
      await client.close();
    }
    console.log(`${label}: new session (spawn + initialize) p50 ${percentile(latencies, 50).toFixed(0)} ms, p90 ${percentile(latencies, 90).toFixed(0)} ms; child RSS p50 ${rss.length ? percentile(rss, 50).toFixed(1) : '?'} MiB`);
  });
}

/** SESSIONS clients calling test_simple_text CALLS times each, with raw requests (the same client code for both designs). */
async function runLoad(stack: Stack, token: string, sessionIds: Array<string | undefined>): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let id = 0;
  const started = performance.now();
  await Promise.all(
    sessionIds.map(async (sessionId) => {
      for (let call = 0; call < CALLS; call += 1) {
        const t0 = performance.now();
        const response = await fetch(stack.mcpUrl, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' } : { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'test_simple_text' }),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }),
        });
        if (!(await response.text()).includes('simple text response')) throw new Error('unexpected answer');
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: (sessionIds.length * CALLS) / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function measureThroughput(command: { command: string; args: string[] }): Promise<void> {
  await withStack(command, async (stack, token) => {
    for (const clientCount of [1, SESSIONS]) {
      const clients = await Promise.all(Array.from({ length: clientCount }, () => connect(stack, token)));
      const sessionIds = clients.map((client) => (client.transport as StreamableHTTPClientTransport).sessionId);
      const own: Array<{ perSecond: number; p50: number; p99: number }> = [];
      const shared: typeof own = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        own.push(await runLoad(stack, token, sessionIds));
        // A shared child: the same calls as stateless requests, which all go to one child.
        shared.push(await runLoad(stack, token, Array.from({ length: clientCount }, () => undefined)));
      }
      await Promise.all(clients.map((client) => client.close()));
      const median = (results: typeof own) => [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(results.length / 2)]!;
      const line = (name: string, result: { perSecond: number; p50: number; p99: number }) =>
        `${name}: ${result.perSecond.toFixed(0)} calls/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`;
      console.log(`${clientCount} concurrent client(s), median of ${ROUNDS} rounds:\n  ${line(`own child each (${clientCount} children)`, median(own))}\n  ${line('one shared child       ', median(shared))}`);
    }
  });
}

const bundle = await bundleFixture();
const bundled = fixtureStdioCommand(['--test-tools'], bundle);
console.log(`node ${process.version}, ${SESSIONS} concurrent clients × ${CALLS} calls, ${STARTS} session starts`);
await measureStarts('bundled JS server (node fixture.mjs)', bundled);
await measureStarts('TypeScript server via tsx loader', fixtureStdioCommand(['--test-tools']));
await measureThroughput(bundled);
