/**
 * The stdio children's lifecycle around the gateway: stopped on shutdown
 * (SIGKILL for one that ignores SIGTERM), bounded in number, ended when idle,
 * a server that refuses to start, and a command that cannot run refused at
 * start-up rather than on the first client.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { fixtureStdioCommand } from '../fixtures/conformance-upstream/launch.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { connectClient, isAlive, resultText, waitFor } from '../helpers/sdk-client.js';
import { startStack, type StackOptions } from '../helpers/stack.js';

const stdioStack = (upstream: Record<string, unknown>, extraArgs: string[] = [], options: StackOptions = {}) =>
  startStack({
    ...options,
    config: (config) => ({ ...config, upstream: { type: 'stdio', ...fixtureStdioCommand(['--test-tools', ...extraArgs]), ...upstream } as never }),
  });

const pidOf = async (client: Awaited<ReturnType<typeof connectClient>>['client']) =>
  (JSON.parse(resultText(await client.callTool({ name: 'gateway_test_info', arguments: {} }))) as { pid: number }).pid;

describe('stdio children and the gateway lifecycle', () => {
  it('stops every child on shutdown, with SIGKILL after the grace period for one that ignores SIGTERM', async () => {
    const stack = await stdioStack({ stopTimeoutMs: 300 }, ['--ignore-sigterm']);
    const token = await stack.obtainToken();
    const sessions = await Promise.all([connectClient(stack.mcpUrl, token), connectClient(stack.mcpUrl, token)]);
    const pids = await Promise.all(sessions.map(({ client }) => pidOf(client)));
    expect(pids.every(isAlive)).toBe(true);
    const stopping = Date.now();
    await stack.close();
    expect(pids.some(isAlive)).toBe(false);
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(300);
    expect(stack.logOutput()).toContain('upstream process ignored SIGTERM; sending SIGKILL');
  }, 30_000);

  it('refuses a session beyond sessions.max with 503, and ends idle sessions', async () => {
    const stack = await stdioStack({ sessions: { max: 1, idleTimeoutSeconds: 1 } });
    try {
      const token = await stack.obtainToken();
      const { client, transport } = await connectClient(stack.mcpUrl, token);
      const pid = await pidOf(client);
      const refused = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      await refused.text();

      // No request and no open stream for a second: the session ends and its child is stopped.
      await transport.close();
      await waitFor(() => !isAlive(pid), 5000, 'the idle session to end');
      const stale = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...bearer(token), 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' });
      expect(stale.status).toBe(404);
      await stale.text();
      // Room for a new one.
      const next = await connectClient(stack.mcpUrl, token);
      await next.client.close();
    } finally {
      await stack.close();
    }
  }, 30_000);

  it('does not end a session as idle while its slow child is still answering the initialize', async () => {
    const stack = await stdioStack({ sessions: { max: 4, idleTimeoutSeconds: 1 } }, ['--start-delay-ms', '2500']);
    try {
      const { client } = await connectClient(stack.mcpUrl, await stack.obtainToken());
      expect(resultText(await client.callTool({ name: 'test_simple_text', arguments: {} }))).toContain('simple text');
      await client.close();
    } finally {
      await stack.close();
    }
  }, 30_000);

  it('gives up on a server that keeps refusing to start, and says why in the log', async () => {
    // The child checks a secret it never gets: it writes to stderr and exits 1, every time.
    const stack = await stdioStack({ restart: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 2 } }, ['--require-secret', `MCP_GATEWAY_SHARED_SECRET:${'0'.repeat(64)}`]);
    try {
      const token = await stack.obtainToken();
      await expect(connectClient(stack.mcpUrl, token)).rejects.toThrow();
      await waitFor(() => stack.logOutput().includes('upstream keeps failing; giving up'), 10_000, 'the session to give up');
      expect(stack.logOutput()).toContain('does not hold the expected shared secret; refusing to start');
    } finally {
      await stack.close();
    }
  }, 30_000);

  it('refuses at start-up a command that cannot be run', async () => {
    const config = validateConfig({
      resource: { url: 'http://127.0.0.1:1/mcp' },
      authorizationServers: [{ issuer: 'http://127.0.0.1:2' }],
      upstream: { type: 'stdio', command: 'no-such-mcp-server-binary' },
    });
    await expect(createGateway(config, { logger: silentLogger, environment: { PATH: '/usr/bin:/bin' } })).rejects.toThrow(ConfigError);
    await expect(createGateway(config, { logger: silentLogger, environment: { PATH: '/usr/bin:/bin' } })).rejects.toThrow(/upstream\.command: no-such-mcp-server-binary was not found in the child's PATH/);
    const badCwd = validateConfig({ ...config, upstream: { type: 'stdio', command: process.execPath, cwd: '/nonexistent/dir' } });
    await expect(createGateway(badCwd, { logger: silentLogger })).rejects.toThrow(/upstream\.cwd: \/nonexistent\/dir is not a directory/);
  });
});
