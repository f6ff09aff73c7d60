/**
 * A server that speaks only the 2024-11-05 HTTP+SSE transport behind the
 * gateway: the conformance-style fixture over GET /sse + POST /messages, a
 * real SDK client in front. The gateway's credential goes on every upstream
 * request, each client session is an SSE session of its own, a restarted
 * server is reconnected to, and stateless clients share one connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer, type FixtureServer } from '../fixtures/conformance-upstream/launch.js';
import { findFreePort } from '../helpers/ports.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { connectClient, resultText, waitFor } from '../helpers/sdk-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const API_KEY = 'legacy-upstream-key-0123456789';

let legacyPort: number;
let legacy: FixtureServer;
let stack: Stack;
let token: string;
beforeAll(async () => {
  legacyPort = await findFreePort();
  legacy = await startFixtureServer('legacy-sse', ['--test-tools', '--port', String(legacyPort), '--require-header', `x-api-key:${API_KEY}`]);
  stack = await startStack({
    config: (config) => ({
      ...config,
      upstream: {
        type: 'legacy-sse',
        url: `${legacy.origin}/sse`,
        credential: { header: 'X-API-Key', value: API_KEY },
        restart: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 20 },
      },
    }),
  });
  token = await stack.obtainToken();
}, 30_000);
afterAll(async () => {
  await stack?.close();
  await legacy?.stop();
});

describe('legacy HTTP+SSE upstream', () => {
  it('carries tools, sampling, progress and log messages with the gateway credential', async () => {
    const { client, logs, sampled } = await connectClient(stack.mcpUrl, token);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('test_tool_with_progress');
    expect(resultText(await client.callTool({ name: 'test_sampling', arguments: { prompt: 'legacy?' } }))).toBe('LLM response: an answer from the host');
    expect(sampled).toEqual(['legacy?']);
    const progress: number[] = [];
    await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, { onprogress: (update) => progress.push(update.progress) });
    expect(progress).toEqual([0, 50, 100]);
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    await waitFor(() => logs.length >= 3, 2000, 'log messages');
    await client.close();
  });

  it('reports an upstream that refuses the gateway credential as 502, not as a challenge to the client', async () => {
    const refusing = await startStack({ config: (config) => ({ ...config, upstream: { type: 'legacy-sse', url: `${legacy.origin}/sse`, credential: { header: 'X-API-Key', value: 'wrong' } } }) });
    try {
      const response = await mcpPost(refusing.mcpUrl, INITIALIZE, bearer(await refusing.obtainToken()));
      expect(response.status).toBe(502);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await response.json()).toMatchObject({ error: { code: -32603, message: 'The upstream MCP server refused the gateway credential' } });
    } finally {
      await refusing.close();
    }
  });

  it('reconnects a session to a restarted server and replays its initialize', async () => {
    const { client } = await connectClient(stack.mcpUrl, token);
    const before = JSON.parse(resultText(await client.callTool({ name: 'gateway_test_info', arguments: {} }))).pid as number;
    await legacy.stop();
    legacy = await startFixtureServer('legacy-sse', ['--test-tools', '--port', String(legacyPort), '--require-header', `x-api-key:${API_KEY}`]);
    await waitFor(() => stack.logOutput().includes('upstream restarting after backoff'), 5000, 'the reconnect');
    const after = JSON.parse(resultText(await client.callTool({ name: 'gateway_test_info', arguments: {} }))).pid as number;
    expect(after).not.toBe(before);
    await client.close();
  }, 30_000);

  it('answers stateless (2026-07-28) requests over one shared SSE session', async () => {
    const call = (id: number) =>
      mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }, {
        ...bearer(token),
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_simple_text',
        accept: 'application/json',
      });
    const answers = await Promise.all([call(1), call(2)].map(async (response) => (await response).json()));
    expect(answers).toEqual([
      expect.objectContaining({ id: 1, result: expect.objectContaining({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }) }),
      expect.objectContaining({ id: 2, result: expect.objectContaining({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }) }),
    ]);
  });
});
