/**
 * The example policies in policies/, enforced with the official SDK client, a
 * real authorization server and a real upstream.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth, HeadlessOAuthProvider } from '../../src/demo/headless-oauth-client.js';
import { bearer, mcpPost, parseChallenge } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';


const policies = copyPolicies();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policyDirectory: policies.directory, as: { user: { sub: 'demo-user', claims: { groups: ['support'] } } } });
});
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

const stateless = (method: string, name?: string) => ({
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': method,
  ...(name ? { 'mcp-name': name } : {}),
});
const toolCall = (name: string, args: Record<string, unknown> = {}, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const upstreamSawTool = (name: string) => stack.upstream.seen.some((request) => JSON.stringify(request.body ?? '').includes(`"name":"${name}"`));

describe('per-tool scopes with the official SDK client', () => {
  it('discovers the baseline scope from the policy, lists only callable tools, steps up for tickets:write', async () => {
    // No refresh tokens: a step-up then goes through a new authorization (typescript-sdk #2255).
    const provider = new HeadlessOAuthProvider('policy test client', false);
    const { client, transport } = await connectWithOAuth(stack.mcpUrl, { provider });
    // The 401 (and so the first authorization) asked for the policy's challenge scope.
    expect(provider.authorizationUrls[0]!.searchParams.get('scope')).toBe('tickets:read');

    const listed = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(listed).toEqual(['echo', 'fail_tool', 'get_ticket', 'list_tickets', 'slow_progress']);

    // create_ticket needs tickets:write: 403, and the SDK starts a step-up by itself.
    const before = provider.authorizationUrls.length;
    await expect(client.callTool({ name: 'create_ticket', arguments: { title: 'needs write' } })).rejects.toBeInstanceOf(UnauthorizedError);
    expect(upstreamSawTool('create_ticket')).toBe(false);
    const stepUp = provider.authorizationUrls.at(-1)!;
    expect(provider.authorizationUrls.length).toBe(before + 1);
    // Granted ∪ required: the SDK replaces its scope with the challenged one.
    expect(stepUp.searchParams.get('scope')?.split(' ').sort()).toEqual(['tickets:read', 'tickets:write']);

    await transport.finishAuth(provider.pendingCode!);
    expect(String(decodeJwt(provider.tokens()!.access_token).scope).split(' ').sort()).toEqual(['tickets:read', 'tickets:write']);
    const created = await client.callTool({ name: 'create_ticket', arguments: { title: 'after step-up' } });
    expect(created.isError).toBeFalsy();
    expect(upstreamSawTool('create_ticket')).toBe(true);
    // Listing follows the same rules as calling: create_ticket is now visible.
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('create_ticket');
    await client.close();
  });

  it('403 carries the challenge a client needs: Bearer, insufficient_scope, granted ∪ required, resource_metadata', async () => {
    const token = await stack.obtainToken('tickets:read');
    const response = await mcpPost(stack.mcpUrl, toolCall('create_ticket', { title: 'x' }, 'c-1'), { ...bearer(token), ...stateless('tools/call', 'create_ticket') });
    expect(response.status).toBe(403);
    const challenge = parseChallenge(response.headers.get('www-authenticate'));
    expect(challenge.scheme).toBe('Bearer');
    expect(challenge.params.error).toBe('insufficient_scope');
    expect(challenge.params.scope?.split(' ').sort()).toEqual(['tickets:read', 'tickets:write']);
    expect(challenge.params.resource_metadata).toBe(`${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 'c-1', error: { code: -32001, data: { missingScopes: ['tickets:write'] } } });
  });

  it('a claim condition failure is a 403 without a step-up challenge', async () => {
    const token = await stack.obtainToken('admin');
    const response = await mcpPost(stack.mcpUrl, toolCall('admin_delete_ticket', { id: 'T-1' }), { ...bearer(token), ...stateless('tools/call', 'admin_delete_ticket') });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { data: { reason: 'claim_condition' } } });
    expect(upstreamSawTool('admin_delete_ticket')).toBe(false);
  });

  it('a tool no rule names is denied (unmatched → deny) and filtered out of lists', async () => {
    const token = await stack.obtainToken('admin');
    const response = await mcpPost(stack.mcpUrl, toolCall('not_in_policy'), { ...bearer(token), ...stateless('tools/call', 'not_in_policy') });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { data: { reason: 'unmatched' } } });
  });

  it('a batch with one denied element is denied whole and never reaches the upstream', async () => {
    const token = await stack.obtainToken('tickets:read');
    const before = stack.upstream.seen.length;
    const response = await mcpPost(stack.mcpUrl, [toolCall('list_tickets', {}, 1), toolCall('create_ticket', { title: 'batched' }, 2)], bearer(token));
    expect(response.status).toBe(403);
    expect(parseChallenge(response.headers.get('www-authenticate')).params.scope?.split(' ').sort()).toEqual(['tickets:read', 'tickets:write']);
    expect(await response.json()).toMatchObject({ id: null });
    expect(stack.upstream.seen.length).toBe(before);
  });

  it('mirrored headers that disagree with the body → 400 / -32020, never forwarded', async () => {
    const token = await stack.obtainToken('tickets:write');
    const before = stack.upstream.seen.length;
    // Claims to call echo (allowed for anyone) while the body calls create_ticket.
    const lying = await mcpPost(stack.mcpUrl, toolCall('create_ticket', { title: 'x' }, 7), { ...bearer(token), ...stateless('tools/call', 'echo') });
    expect(lying.status).toBe(400);
    expect(await lying.json()).toMatchObject({ id: 7, error: { code: -32020 } });
    const noName = await mcpPost(stack.mcpUrl, toolCall('echo', { text: 'x' }, 8), { ...bearer(token), ...stateless('tools/call') });
    expect(noName.status).toBe(400);
    const wrongMethod = await mcpPost(stack.mcpUrl, toolCall('echo', { text: 'x' }, 9), { ...bearer(token), ...stateless('tools/list') });
    expect(wrongMethod.status).toBe(400);
    expect(stack.upstream.seen.length).toBe(before);
    // The Base64 sentinel form of the same name is accepted.
    const encoded = await mcpPost(stack.mcpUrl, toolCall('echo', { text: 'b64' }, 10), {
      ...bearer(token),
      ...stateless('tools/call', `=?base64?${Buffer.from('echo').toString('base64')}?=`),
    });
    expect(encoded.status).toBe(200);
  });

  it('checks Mcp-Param-* headers the tool declares with x-mcp-header (learned from tools/list)', async () => {
    const token = await stack.obtainToken('tickets:read');
    const list = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...bearer(token), ...stateless('tools/list') });
    expect(await list.text()).toContain('x-mcp-header');
    const call = (headerValue: string | undefined) =>
      mcpPost(stack.mcpUrl, toolCall('get_ticket', { id: 'T-1' }), {
        ...bearer(token),
        ...stateless('tools/call', 'get_ticket'),
        ...(headerValue === undefined ? {} : { 'mcp-param-ticket-id': headerValue }),
      });
    expect((await call('T-1')).status).toBe(200);
    expect((await call(`=?base64?${Buffer.from('T-1').toString('base64')}?=`)).status).toBe(200);
    const mismatch = await call('T-2');
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ error: { code: -32020 } });
    expect((await call(undefined)).status).toBe(400);
  });

  it('a per-client deny shape answers a JSON-RPC error in a 200, naming the missing scopes', async () => {
    const token = await stack.obtainToken('tickets:read');
    const clientId = String(decodeJwt(token).client_id);
    policies.write('30-clients.yaml', `version: 1\n`);
    const settings = (await import('node:fs')).readFileSync(`${policies.directory}/00-settings.yaml`, 'utf8');
    policies.write('00-settings.yaml', settings.replace('  denyResponse: http-403', `  denyResponse: http-403\n  clients:\n    "${clientId}": { denyResponse: jsonrpc-error }`));
    expect(await stack.gateway.reloadPolicy()).toBe(true);
    const response = await mcpPost(stack.mcpUrl, toolCall('create_ticket', { title: 'x' }, 'soft'), { ...bearer(token), ...stateless('tools/call', 'create_ticket') });
    expect(response.status).toBe(200);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toMatchObject({ id: 'soft', error: { code: -32001, data: { missingScopes: ['tickets:write'], scope: 'tickets:read tickets:write' } } });
    policies.write('00-settings.yaml', settings);
    await stack.gateway.reloadPolicy();
  });

  it('lists are filtered for JSON responses too', async () => {
    const jsonStack = await startStack({ policyDirectory: policies.directory, upstream: { jsonResponse: true } });
    try {
      const token = await jsonStack.obtainToken('tickets:read');
      const response = await mcpPost(jsonStack.mcpUrl, { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, { ...bearer(token), ...stateless('tools/list') });
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = (await response.json()) as { result: { tools: Array<{ name: string }> } };
      expect(body.result.tools.map((tool) => tool.name).sort()).toEqual(['echo', 'fail_tool', 'get_ticket', 'list_tickets', 'slow_progress']);
    } finally {
      await jsonStack.close();
    }
  });

  it('the metadata names the policy baseline scope', async () => {
    const document = (await (await fetch(`${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`)).json()) as { scopes_supported: string[] };
    expect(document.scopes_supported).toEqual(['tickets:read']);
  });
});
