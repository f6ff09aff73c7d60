/**
 * A stdio MCP server behind the gateway: the conformance-style fixture runs as
 * a real child process (node with the tsx loader); clients are the official
 * SDK client with a token from the real authorization server. Everything the
 * server can do reaches the client, each session has its own child with only
 * the environment it was given, a crash is survived, and the pipeline
 * (policy, list filtering, audit) is the same as for HTTP upstreams.
 */
import { createHash } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureStdioCommand } from '../fixtures/conformance-upstream/launch.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { connectClient, isAlive, resultText, waitFor } from '../helpers/sdk-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const SHARED_SECRET = 'stdio-shared-secret-0123456789';
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

// Everything allowed with tickets:read, except one tool nobody may call.
const policies = copyPolicies(
  {
    '10-all.yaml': [
      'version: 1',
      'settings: { challengeScopes: [tickets:read] }',
      'scopes: { "tickets:read": Read }',
      'tools:',
      '  - name: test_error_handling',
      '    deny: true',
      '  - name: "*"',
      '    scopes: [tickets:read]',
      'prompts: [{ name: "*", scopes: [tickets:read] }]',
      'resources: [{ uri: "**", scopes: [tickets:read] }]',
      'methods: [{ method: "*", scopes: [tickets:read] }]',
      '',
    ].join('\n'),
  },
  { fromExamples: false },
);

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({
    policyDirectory: policies.directory,
    // The gateway's own environment holds a secret that must not reach the child.
    environment: { PATH: process.env['PATH'], HOME: '/home/gateway', GATEWAY_ONLY_SECRET: 'must-not-leak' },
    config: (config) => ({
      ...config,
      upstream: {
        type: 'stdio',
        ...fixtureStdioCommand(['--test-tools', '--require-secret', `MCP_GATEWAY_SHARED_SECRET:${sha256(SHARED_SECRET)}`]),
        env: { FIXTURE_MODE: 'test' },
        sharedSecret: { value: SHARED_SECRET },
        restart: { initialDelayMs: 50, maxDelayMs: 1000, maxAttempts: 10 },
        stopTimeoutMs: 2000,
      },
    }),
  });
  token = await stack.obtainToken('tickets:read');
}, 30_000);
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

const info = async (client: Awaited<ReturnType<typeof connectClient>>['client']) =>
  JSON.parse(resultText(await client.callTool({ name: 'gateway_test_info', arguments: {} }))) as { pid: number; envNames: string[] };

describe('stdio upstream: what the server does reaches the client', () => {
  it('lists and calls tools, and carries sampling, elicitation, progress and log messages both ways', async () => {
    const { client, logs, sampled } = await connectClient(stack.mcpUrl, token);
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toContain('test_sampling');
    // The same policy as for HTTP upstreams decides the list: the denied tool is not shown.
    expect(tools).not.toContain('test_error_handling');

    expect(resultText(await client.callTool({ name: 'test_simple_text', arguments: {} }))).toBe('This is a simple text response for testing.');
    expect(resultText(await client.callTool({ name: 'test_sampling', arguments: { prompt: 'What is 2+2?' } }))).toBe('LLM response: an answer from the host');
    expect(sampled).toEqual(['What is 2+2?']);
    expect(resultText(await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } }))).toContain('"username":"ada"');

    const progress: number[] = [];
    await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, { onprogress: (update) => progress.push(update.progress) });
    expect(progress).toEqual([0, 50, 100]);

    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    await waitFor(() => logs.includes('Tool execution completed'), 2000, 'log messages');
    expect(logs).toEqual(expect.arrayContaining(['Tool execution started', 'Tool processing data', 'Tool execution completed']));

    const resource = await client.readResource({ uri: 'test://template/42/data' });
    expect(JSON.stringify(resource.contents)).toContain('Data for ID: 42');
    expect((await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } })).messages).toHaveLength(1);
    await client.close();
  });

  it('refuses a denied tool with 403 and writes audit records with the outcome', async () => {
    const { client } = await connectClient(stack.mcpUrl, token);
    await expect(client.callTool({ name: 'test_error_handling', arguments: {} })).rejects.toThrow();
    await client.callTool({ name: 'test_simple_text', arguments: {} });
    await client.close();
    const records = stack.auditRecords().filter((record) => record.what.target?.name === 'test_simple_text' || record.what.target?.name === 'test_error_handling');
    expect(records.find((record) => record.what.target?.name === 'test_error_handling')).toMatchObject({ decision: { effect: 'deny', reason: 'explicit_deny' }, outcome: { status: 403 } });
    expect(records.find((record) => record.what.target?.name === 'test_simple_text')).toMatchObject({ decision: { effect: 'allow' }, outcome: { status: 200, result: 'success' } });
  });
});

describe('stdio upstream: children', () => {
  it('gives each session its own child, with only the configured environment and the shared secret', async () => {
    const first = await connectClient(stack.mcpUrl, token);
    const second = await connectClient(stack.mcpUrl, token);
    const [a, a2, b] = [await info(first.client), await info(first.client), await info(second.client)];
    expect(a.pid).toBe(a2.pid);
    expect(b.pid).not.toBe(a.pid);
    // The child started only because it found the secret (--require-secret checks it in constant time).
    expect(a.envNames).toEqual(['FIXTURE_MODE', 'HOME', 'MCP_GATEWAY_SHARED_SECRET', 'PATH']);
    await Promise.all([first.client.close(), second.client.close()]);
    expect(stack.logOutput()).not.toContain(token);
    expect(stack.logOutput()).not.toContain(SHARED_SECRET);
  });

  it('ends a session on DELETE and stops its child', async () => {
    const { client, transport } = await connectClient(stack.mcpUrl, token);
    const { pid } = await info(client);
    await transport.terminateSession();
    await waitFor(() => !isAlive(pid), 5000, 'the child to exit');
    await client.close();
  });

  it('lets a client that dropped its GET stream open it again (the dropped one is released at once)', async () => {
    const initialized = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
    await initialized.text();
    const headers = { ...bearer(token), 'mcp-session-id': initialized.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25', accept: 'text/event-stream' };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const abort = new AbortController();
      const stream = await fetch(stack.mcpUrl, { headers, signal: abort.signal });
      // One GET stream per session: a second one while the first is registered would be 409.
      expect(`attempt ${attempt}: ${stream.status}`).toBe(`attempt ${attempt}: 200`);
      abort.abort();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('resumes a broken POST stream with Last-Event-ID: the rest of the progress and the result are replayed', async () => {
    const initialized = await mcpPost(stack.mcpUrl, { ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-11-25' } }, bearer(token));
    await initialized.text();
    const session = { ...bearer(token), 'mcp-session-id': initialized.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    const abort = new AbortController();
    const call = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { ...session, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'resume-me', method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'r' } } }),
      signal: abort.signal,
    });
    // Read up to the first progress notification, note its event id, then drop the stream.
    const text = await readUntil(call.body!.getReader(), (received) => /data: .*notifications\/progress/.test(received));
    expect(text).toMatch(/^id: \S+\nretry: 1000\ndata: \n\n/);
    const lastEventId = [...text.matchAll(/^id: (\S+)$/gm)].at(-1)![1]!;
    abort.abort();

    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumedAbort = new AbortController();
    const resumed = await fetch(stack.mcpUrl, { headers: { ...session, accept: 'text/event-stream', 'last-event-id': lastEventId }, signal: resumedAbort.signal });
    expect(resumed.status).toBe(200);
    // The resumed stream stays open (like the SDK's own); read until the result.
    const replayed = await readUntil(resumed.body!.getReader(), (received) => received.includes('"id":"resume-me"'));
    resumedAbort.abort();
    expect(parseSseMessages(replayed).map((message) => (message.method as string | undefined) ?? `result ${String(message.id)}`)).toEqual([
      'notifications/progress',
      'notifications/progress',
      'result resume-me',
    ]);
  });

  it("puts the child's stderr lines into the operational log", async () => {
    const { client } = await connectClient(stack.mcpUrl, token);
    const { pid } = await info(client);
    await client.callTool({ name: 'gateway_test_stderr', arguments: { line: 'hello from the child on stderr' } });
    await waitFor(() => stack.logOutput().includes('hello from the child on stderr'), 2000, 'the stderr line in the log');
    const line = stack.logOutput().split('\n').find((entry) => entry.includes('hello from the child on stderr'))!;
    expect(JSON.parse(line)).toMatchObject({ msg: 'upstream stderr', pid, upstream: 'stdio' });
    await client.close();
  });

  it('restarts a crashed child with the session intact: the call in flight fails, the next one works', async () => {
    const { client, logs } = await connectClient(stack.mcpUrl, token);
    await client.setLoggingLevel('info');
    const before = await info(client);
    const crash = client.callTool({ name: 'gateway_test_exit', arguments: { code: 3 } });
    await expect(crash).rejects.toBeInstanceOf(McpError);
    await expect(crash).rejects.toMatchObject({ code: -32603 });
    // Same session, new child: the gateway replayed the client's initialize to it.
    const after = await info(client);
    expect(after.pid).not.toBe(before.pid);
    // The session's logging level was replayed to the new child (the fixture confirms each setLevel with a log message).
    await waitFor(() => logs.filter((data) => data === 'Log level set to: info').length === 2, 3000, 'the replayed logging level');
    expect(isAlive(before.pid)).toBe(false);
    expect(stack.logOutput()).toMatch(/"code":3,.*"msg":"upstream process ended"/);
    expect(stack.logOutput()).toContain('upstream restarting after backoff');

    // A child that answers and exits right away: the answer still in its stdout pipe arrives.
    // (A request racing with such an exit fails like any request in flight: the test waits for the restart.)
    const starts = () => stack.logOutput().split('upstream process started').length;
    for (let round = 0; round < 3; round += 1) {
      const before = starts();
      expect(resultText(await client.callTool({ name: 'gateway_test_exit', arguments: { code: 0, answerFirst: true } }))).toBe('exiting');
      await waitFor(() => starts() > before, 5000, 'the restart');
    }
    expect((await info(client)).pid).not.toBe(after.pid);
    await client.close();
  });
});

describe('stdio upstream: stateless (2026-07-28) requests', () => {
  const statelessHeaders = (method: string, name?: string) => ({
    ...bearer(token),
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  });
  const callTool = (name: string, id: number | string, progressToken?: string) =>
    mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...(progressToken ? { _meta: { progressToken } } : {}) } },
      statelessHeaders('tools/call', name),
    );

  it('answers without initialize or session, from one shared child', async () => {
    const [first, second] = await Promise.all([callTool('gateway_test_info', 1), callTool('gateway_test_info', 2)]);
    expect(first.headers.get('mcp-session-id')).toBeNull();
    const pids = await Promise.all([first, second].map(async (response) => JSON.parse(resultText(parseSseResult(await response.text()))).pid as number));
    expect(pids[0]).toBe(pids[1]);
  });

  it('keeps concurrent clients apart: the same id and progress token come back to each', async () => {
    const responses = await Promise.all([callTool('test_tool_with_progress', 7, 'tok'), callTool('test_tool_with_progress', 7, 'tok')]);
    for (const response of responses) {
      const events = parseSseMessages(await response.text());
      expect(events.filter((event) => event.method === 'notifications/progress').map((event) => (event.params as { progressToken: string; progress: number }))).toEqual([
        expect.objectContaining({ progressToken: 'tok', progress: 0 }),
        expect.objectContaining({ progressToken: 'tok', progress: 50 }),
        expect.objectContaining({ progressToken: 'tok', progress: 100 }),
      ]);
      // The shared child saw the bridge's own token (unique across clients): the fixture echoes it in its text.
      expect(events.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: expect.not.stringMatching(/^tok$/) }] } });
    }
  });

  it('answers with JSON when the client accepts only JSON, and refuses GET', async () => {
    const response = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 'j', method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }, { ...statelessHeaders('tools/call', 'test_simple_text'), accept: 'application/json' });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ id: 'j', result: { content: [{ text: 'This is a simple text response for testing.' }] } });
    const get = await fetch(stack.mcpUrl, { headers: { ...bearer(token), 'mcp-protocol-version': '2026-07-28', accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    await get.text();
  });
});

function parseSseMessages(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n'))
    .filter((data) => data.trim() !== '')
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

function parseSseResult(text: string): unknown {
  return (parseSseMessages(text).at(-1) as { result: unknown }).result;
}

/** Reads an SSE body until `done` says enough arrived; fails if the stream ends first. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (received: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  let received = '';
  while (!done(received)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`stream ended early after: ${received}`);
    received += decoder.decode(chunk.value, { stream: true });
  }
  return received;
}
