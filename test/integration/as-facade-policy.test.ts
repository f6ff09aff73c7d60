/**
 * The policy engine sees the identity provider's claims: the facade copies `groups` from the ID
 * token into its access tokens, and claim conditions decide on them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth } from '../../src/demo/headless-oauth-client.js';
import { startFacadeStack, type FacadeStack } from '../helpers/facade-stack.js';
import { copyPolicies } from '../helpers/policy-dir.js';

const policies = copyPolicies(
  {
    'policy.yaml': `version: 1
settings:
  unmatched: deny
  challengeScopes: [tickets:read]
tools:
  - name: echo
    scopes: [tickets:read]
    when:
      groups: { contains: staff }
  - name: admin_delete_ticket
    scopes: [tickets:read]
    when:
      groups: { contains: mcp-admins }
`,
  },
  { fromExamples: false },
);
let stack: FacadeStack;
beforeAll(async () => {
  stack = await startFacadeStack({ policyDirectory: policies.directory, user: { sub: 'alice', claims: { groups: ['staff'] } } });
});
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

describe('policies on facade tokens', () => {
  it('decide on the groups the identity provider asserted', async () => {
    const { client } = await connectWithOAuth(stack.mcpUrl, { provider: stack.provider() });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['echo']);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'staff only' } })).content).toEqual([{ type: 'text', text: 'staff only' }]);
    await expect(client.callTool({ name: 'admin_delete_ticket', arguments: { id: 'T-1' } })).rejects.toThrow();
    expect(stack.upstream.seen.some((request) => JSON.stringify(request.body ?? '').includes('admin_delete_ticket'))).toBe(false);
    await client.close();
  });
});
