/**
 * docs/idp/okta.md: tokens shaped like a custom Okta authorization server's (issuer
 * /oauth2/<id>, no typ header, scp array, cid, uid) pass with the recipe's config; a token from a
 * server still on the default audience api://default is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGateway, decideToolCall, originOf, recipeConfig } from '../helpers/idp-recipe.js';
import { startStack, type Stack } from '../helpers/stack.js';

const DEFAULT_AUDIENCE_RESOURCE = 'http://127.0.0.1:1/server-with-default-audience';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    as: ({ mcpUrl }) => ({
      issuer: (origin) => `${origin}/oauth2/aus-mcp-tickets`,
      signingAlg: 'RS256',
      resources: [
        { resource: mcpUrl, scopes: ['tickets:read', 'tickets:write'], audience: mcpUrl },
        { resource: DEFAULT_AUDIENCE_RESOURCE, scopes: ['tickets:read'], audience: 'api://default' },
      ],
      shapeAccessToken: ({ header, payload }) => {
        header.typ = undefined;
        payload.ver = 1;
        payload.scp = String(payload.scope).split(' ');
        payload.cid = payload.client_id;
        payload.uid = '00u1abcdEFGH2345ijkl';
        delete payload.scope;
        delete payload.client_id;
      },
    }),
    config: (base, { as }) => recipeConfig({ doc: 'okta.md', name: 'okta', hosts: { 'https://example.okta.com': originOf(as) } })(base, as),
  });
});
afterAll(async () => stack?.close());

describe('Okta recipe', () => {
  it('accepts an Okta-shaped token (no typ, scp array, cid) and reads its scopes from scp', async () => {
    const token = await stack.obtainToken('tickets:read tickets:write');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).not.toHaveProperty('typ');
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 200 });
    const principal = await stack.gateway.verifier.verify(token);
    expect([...principal.scopes].sort()).toEqual(['tickets:read', 'tickets:write']);
    // claimMapping.clientId: [cid] in the recipe.
    expect(principal.claims.cid).toEqual(expect.any(String));
    expect(principal.clientId).toBe(principal.claims.cid);
  });

  it('lets a policy decide on the scp array, and on cid with a claim condition', async () => {
    const token = await stack.obtainToken('tickets:read');
    const cid = String((await stack.gateway.verifier.verify(token)).claims.cid);
    const policy = (clients: string[]) => `tools:\n  - name: list_tickets\n    scopes: [tickets:read]\n    when:\n      cid: { in: ${JSON.stringify(clients)} }\n`;
    expect(decideToolCall(policy([cid]), token, 'list_tickets')).toEqual({ effect: 'allow', reason: 'allowed' });
    expect(decideToolCall(policy(['0oa-another-app']), token, 'list_tickets')).toEqual({ effect: 'deny', reason: 'claim_condition' });
  });

  it('refuses a token from an authorization server still on the default audience api://default', async () => {
    const token = await stack.obtainToken('tickets:read', DEFAULT_AUDIENCE_RESOURCE);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud).toBe('api://default');
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });
});
