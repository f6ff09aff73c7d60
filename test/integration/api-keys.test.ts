/**
 * Static API keys through the same pipeline as tokens: the example policies decide (allowed,
 * 403 with the step-up challenge), the audit record says authMethod api_key, a wrong key is a
 * 401, and the key never reaches the upstream, a log line or an audit record. Next to them, the
 * issuer still introspects opaque tokens, and an unknown key is never sent there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/index.js';
import { auditRecordsOf } from '../helpers/audit-wait.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';

const GATEWAY_CLIENT = { client_id: 'mcp-gateway', client_secret: 'gateway-introspection-secret-0123456789' };
const reader = generateApiKey();
const writer = generateApiKey();
const revoked = generateApiKey();

const policies = copyPolicies();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    policyDirectory: policies.directory,
    as: ({ mcpUrl }) => ({
      introspection: true,
      resources: [{ resource: mcpUrl, scopes: ['tickets:read'], accessTokenFormat: 'opaque' }],
      clients: [{ ...GATEWAY_CLIENT, grant_types: [], response_types: [], redirect_uris: [] }],
    }),
    config: (config) => ({
      ...config,
      authorizationServers: config.authorizationServers.map((server) => ({
        ...server,
        introspection: { clientId: GATEWAY_CLIENT.client_id, clientSecret: GATEWAY_CLIENT.client_secret },
      })),
      apiKeys: [
        { name: 'report-bot', hash: reader.hash, scopes: ['tickets:read'] },
        { name: 'triage-bot', hash: writer.hash, scopes: ['tickets:read', 'tickets:triage'], subject: 'triage@example.com' },
      ],
    }),
  });
});
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

const callTool = (key: string, name: string, args: Record<string, unknown> = {}) =>
  mcpPost(
    stack.mcpUrl,
    { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } },
    { ...bearer(key), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
  );
const recordOf = async (response: Response) => (await auditRecordsOf(stack, response))[0]!;

describe('API keys', () => {
  it('a key within its scopes is allowed; the audit names the key holder and authMethod api_key', async () => {
    const response = await callTool(writer.key, 'create_ticket', { title: 'from the triage bot' });
    expect(response.status).toBe(200);
    await response.text();
    const record = await recordOf(response);
    expect(record.who).toMatchObject({ issuer: 'api-key', subject: 'triage@example.com', clientId: 'triage-bot', authMethod: 'api_key' });
    expect([...(record.who?.scopes ?? [])].sort()).toEqual(['tickets:read', 'tickets:triage']);
    expect(record.decision).toMatchObject({ effect: 'allow' });
  });

  it('a key without the scope is denied by the policy: 403 insufficient_scope, audited as denied', async () => {
    const response = await callTool(reader.key, 'create_ticket', { title: 'not allowed' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    await response.text();
    expect(await recordOf(response)).toMatchObject({ who: { clientId: 'report-bot', subject: 'api-key:report-bot', authMethod: 'api_key' }, outcome: { result: 'denied' } });
  });

  it('list results are filtered for a key as for a token', async () => {
    const response = await mcpPost(
      stack.mcpUrl,
      { jsonrpc: '2.0', id: 8, method: 'tools/list' },
      { ...bearer(reader.key), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    );
    // The demo upstream answers with an SSE stream: one `data:` line carries the result.
    const data = /^data: (.*)$/m.exec(await response.text())![1]!;
    const tools = (JSON.parse(data) as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
    expect(tools).toContain('list_tickets');
    expect(tools).not.toContain('create_ticket');
  });

  it('an unknown key → 401 invalid_token (reason unknown_api_key), and it is never sent to the introspection endpoint', async () => {
    const before = stack.as.introspectionRequests;
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(revoked.key));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await response.text();
    expect(await recordOf(response)).toMatchObject({ event: 'authentication.failure', outcome: { reason: 'unknown_api_key' } });
    expect(stack.as.introspectionRequests).toBe(before);
  });

  it('a key in another header or in the query is not accepted', async () => {
    const other = await mcpPost(stack.mcpUrl, INITIALIZE, { 'x-api-key': reader.key });
    expect(other.status).toBe(401);
    await other.text();
    const query = await mcpPost(`${stack.mcpUrl}?access_token=${reader.key}`, INITIALIZE);
    expect(query.status).toBe(401);
    await query.text();
  });

  it('opaque tokens of the issuer still work next to the keys', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read' });
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(accessToken));
    expect(response.status).toBe(200);
    await response.text();
    expect((await recordOf(response)).who?.authMethod).toBe('introspection');
  });

  it('the key never reaches the upstream, the log or the audit trail', () => {
    const upstreamSaw = JSON.stringify(stack.upstream.seen);
    const output = stack.logOutput() + stack.auditOutput() + upstreamSaw;
    for (const { key } of [reader, writer, revoked]) expect(output).not.toContain(key);
    expect(stack.upstream.seen.length).toBeGreaterThan(0);
  });
});
