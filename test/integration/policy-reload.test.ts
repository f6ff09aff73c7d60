/**
 * Hot reload: an edit takes effect without a restart, an invalid edit never
 * replaces the policy in force, a Kubernetes ConfigMap symlink swap is picked
 * up, and requests in flight finish under the policy they started with.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';

const OPEN = 'tools:\n  - name: echo\n    scopes: []\n  - name: slow_progress\n    scopes: []\n';
const TIGHT = 'tools:\n  - name: echo\n    scopes: [admin]\n  - name: slow_progress\n    scopes: [admin]\n';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function stackWithPolicyDir(directory: string): Promise<Stack> {
  const stack = await startStack({
    policyDirectory: directory,
    config: (config) => ({ ...config, policy: { directory, watch: true, pollIntervalSeconds: 0 } }),
  });
  cleanups.push(() => stack.close());
  return stack;
}

function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gw-reload-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function callEcho(stack: Stack, token: string): Promise<number> {
  const response = await mcpPost(
    stack.mcpUrl,
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } },
    { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
  );
  await response.text();
  return response.status;
}

describe('policy hot reload', () => {
  it('a tightened rule denies the next call; an invalid edit keeps the policy in force', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'policy.yaml'), OPEN);
    const stack = await stackWithPolicyDir(directory);
    const token = await stack.obtainToken('tickets:read');
    expect(await callEcho(stack, token)).toBe(200);

    const first = stack.gateway.policies.current.version;
    writeFileSync(join(directory, 'policy.yaml'), TIGHT);
    await until(() => stack.gateway.policies.current.version !== first);
    expect(await callEcho(stack, token)).toBe(403);

    const tight = stack.gateway.policies.current.version;
    writeFileSync(join(directory, 'policy.yaml'), 'tools:\n  - name: echo\n    scopes: [admin\n');
    await until(() => stack.gateway.policies.status.lastError !== undefined);
    expect(stack.gateway.policies.current.version).toBe(tight);
    expect(await callEcho(stack, token)).toBe(403);
    const readiness = (await (await fetch(new URL('/readyz', stack.mcpUrl))).json()) as { ready: boolean; policy: { version: string; lastError?: { message: string } } };
    expect(readiness.ready).toBe(true);
    expect(readiness.policy.version).toBe(tight);
    expect(readiness.policy.lastError?.message).toMatch(/policy\.yaml:\d+:\d+: Flow sequence/);

    // Fixing the file loads it and clears the error.
    writeFileSync(join(directory, 'policy.yaml'), OPEN);
    await until(() => stack.gateway.policies.current.version !== tight);
    expect(stack.gateway.policies.status.lastError).toBeUndefined();
    expect(await callEcho(stack, token)).toBe(200);
  });

  it('picks up a Kubernetes ConfigMap symlink swap (..data)', async () => {
    const directory = tempDir();
    const publish = (stamp: string, text: string) => {
      mkdirSync(join(directory, stamp));
      writeFileSync(join(directory, stamp, 'policy.yaml'), text);
    };
    publish('..2026_11_25_01_00_00.000000001', OPEN);
    symlinkSync('..2026_11_25_01_00_00.000000001', join(directory, '..data'));
    symlinkSync('..data/policy.yaml', join(directory, 'policy.yaml'));
    const stack = await stackWithPolicyDir(directory);
    const token = await stack.obtainToken('tickets:read');
    expect(await callEcho(stack, token)).toBe(200);

    // What the kubelet does: a new timestamped directory, a temporary link, an atomic rename.
    const before = stack.gateway.policies.current.version;
    publish('..2026_11_25_01_05_00.000000002', TIGHT);
    symlinkSync('..2026_11_25_01_05_00.000000002', join(directory, '..data_tmp'));
    renameSync(join(directory, '..data_tmp'), join(directory, '..data'));
    rmSync(join(directory, '..2026_11_25_01_00_00.000000001'), { recursive: true });
    await until(() => stack.gateway.policies.current.version !== before);
    expect(await callEcho(stack, token)).toBe(403);
  });

  it('a request in flight finishes under the policy it started with', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'policy.yaml'), OPEN);
    const stack = await stackWithPolicyDir(directory);
    const token = await stack.obtainToken('tickets:read');
    const inFlight = mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'slow_progress', arguments: { steps: 6, intervalMs: 100 } } },
      { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow_progress' },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = stack.gateway.policies.current.version;
    writeFileSync(join(directory, 'policy.yaml'), TIGHT);
    await until(() => stack.gateway.policies.current.version !== before);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('"result"');
    expect(await callEcho(stack, token)).toBe(403);
  });

  it('SIGHUP-style reload (gateway.reloadPolicy) works with watching off', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'policy.yaml'), OPEN);
    const stack = await startStack({ policyDirectory: directory, config: (config) => ({ ...config, policy: { directory, watch: false, pollIntervalSeconds: 0 } }) });
    cleanups.push(() => stack.close());
    const token = await stack.obtainToken('tickets:read');
    writeFileSync(join(directory, 'policy.yaml'), TIGHT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await callEcho(stack, token)).toBe(200);
    expect(await stack.gateway.reloadPolicy()).toBe(true);
    expect(await callEcho(stack, token)).toBe(403);
    expect(stack.gateway.policies.status.reloads).toBe(1);
  });
});
