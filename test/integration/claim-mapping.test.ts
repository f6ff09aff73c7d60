/**
 * Per-issuer claim mapping reaches the policy engine: an Okta-shaped token (client in `cid`,
 * scopes in an `scp` array) with Entra-style app `roles` counted as scopes is decided by the
 * example policies on the mapped scopes, while claim conditions still read the raw claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecordsOf } from '../helpers/audit-wait.js';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';

const policies = copyPolicies();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({
      ...config,
      authorizationServers: config.authorizationServers.map((server) => ({
        ...server,
        claimMapping: { clientId: ['cid'], scopes: ['scp'], additionalScopes: ['roles'] },
      })),
    }),
  });
});
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

const stateless = (name: string) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
const callTool = (token: string, name: string, args: Record<string, unknown> = {}) =>
  mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }, { ...bearer(token), ...stateless(name) });

/** Okta shape: no scope/client_id; cid and an scp array. */
const oktaToken = (claims: Record<string, unknown>) =>
  craftToken(stack.as, stack.mcpUrl, { claims: { scope: undefined, client_id: undefined, cid: '0oa-okta-agent', scp: ['tickets:read'], ...claims } });

describe('claim mapping decides policy', () => {
  it('a role counted as a scope (additionalScopes: [roles]) satisfies a rule; the audit names the mapped client and scopes', async () => {
    const response = await callTool(await oktaToken({ roles: ['tickets:triage'] }), 'create_ticket', { title: 'by role' });
    expect(response.status).toBe(200);
    await response.text();
    const [record] = await auditRecordsOf(stack, response);
    expect(record?.who).toMatchObject({ clientId: '0oa-okta-agent', authMethod: 'jwt' });
    expect([...(record?.who?.scopes ?? [])].sort()).toEqual(['tickets:read', 'tickets:triage']);
    expect(record?.decision?.effect).toBe('allow');
  });

  it('the same token without the role is refused with 403 insufficient_scope', async () => {
    const response = await callTool(await oktaToken({}), 'create_ticket', { title: 'no role' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  it('scopes come only from the mapped claims: a `scope` claim is ignored when the mapping names scp', async () => {
    const response = await callTool(await oktaToken({ scope: 'tickets:write', scp: ['tickets:read'] }), 'create_ticket', { title: 'x' });
    expect(response.status).toBe(403);
    await response.text();
  });

  it('claim conditions still see the raw claims (groups), next to mapped scopes (admin from roles)', async () => {
    const allowed = await callTool(await oktaToken({ roles: ['admin'], groups: ['mcp-admins'] }), 'admin_delete_ticket', { id: 'T-1' });
    expect(allowed.status).toBe(200);
    await allowed.text();
    const refused = await callTool(await oktaToken({ roles: ['admin'], groups: ['support'] }), 'admin_delete_ticket', { id: 'T-1' });
    expect(refused.status).toBe(403);
    await refused.text();
  });
});
