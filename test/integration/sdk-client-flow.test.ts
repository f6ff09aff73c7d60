/**
 * The Foundation's main promise: an MCP client that knows only the gateway URL
 * discovers, registers, authorizes and calls tools, and the upstream sees the
 * gateway's credential, never the user's token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth, HeadlessOAuthProvider } from '../../src/demo/headless-oauth-client.js';
import { SERVICE_KEY, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

describe('official SDK client through the gateway', () => {
  it('discovers, registers dynamically, authorizes with PKCE and the resource, then lists and calls tools', async () => {
    const provider = new HeadlessOAuthProvider();
    const { client } = await connectWithOAuth(stack.mcpUrl, { provider });

    // What the SDK did on its own, from the 401 alone:
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    expect(authorizationUrl.origin).toBe(stack.as.issuer);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(authorizationUrl.searchParams.get('scope')).toBe('tickets:read');
    expect(provider.clientInformation()?.client_id).toBeTruthy();

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('list_tickets');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
    expect(result.content).toEqual([{ type: 'text', text: 'through the gateway' }]);

    const token = provider.tokens()!.access_token;
    await client.close();

    // The upstream saw our service key on every request and the user's token nowhere.
    const upstreamRequests = stack.upstream.seen;
    expect(upstreamRequests.length).toBeGreaterThanOrEqual(3);
    for (const request of upstreamRequests) {
      expect(request.headers['x-api-key']).toBe(SERVICE_KEY);
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request)).not.toContain(token);
    }
    // Nor did the gateway's own log.
    expect(stack.logOutput()).not.toContain(token);
  });
});
