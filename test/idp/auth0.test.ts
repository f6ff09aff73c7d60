/**
 * docs/idp/auth0.md: tokens shaped like Auth0's (issuer with a trailing slash, typ JWT, azp, aud
 * = [API identifier, /userinfo]) pass with the recipe's config, whether the client used Auth0's
 * `audience` parameter or RFC 8707 `resource` (the compatibility profile). Near misses: the opaque
 * token Auth0 issues when neither is sent, and the issuer configured without its slash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { callGateway, decideToolCall, originOf, recipeConfig } from '../helpers/idp-recipe.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    as: ({ mcpUrl }) => ({
      issuer: (origin) => `${origin}/`,
      signingAlg: 'RS256',
      audienceParameter: true,
      resources: [
        { resource: mcpUrl, scopes: ['tickets:read'] },
        { resource: 'https://other-api.example.com', scopes: ['other:read'] },
      ],
      shapeAccessToken: ({ header, payload }) => {
        header.typ = 'JWT';
        payload.azp = payload.client_id;
        delete payload.client_id;
        payload.aud = [payload.aud, `${String(payload.iss)}userinfo`];
        // RBAC: everything the user may do in the API, beyond what this client asked for.
        payload.permissions = [...String(payload.scope).split(' '), 'tickets:export'];
      },
    }),
    config: (base, { as }) =>
      recipeConfig({ doc: 'auth0.md', name: 'auth0', hosts: { 'https://example-tenant.us.auth0.com': originOf(as) } })(base, as),
  });
});
afterAll(async () => stack?.close());

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('Auth0 recipe', () => {
  it('keeps the trailing slash of the issuer', () => {
    expect(stack.config.authorizationServers[0]?.issuer).toBe(`${originOf(stack.as)}/`);
    expect(stack.as.issuer).toBe(`${originOf(stack.as)}/`);
  });

  it('accepts a token requested with Auth0\'s audience parameter (aud = [API identifier, userinfo])', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ scope: 'openid tickets:read', params: { audience: stack.mcpUrl } });
    expect(payloadOf(accessToken).aud).toEqual([stack.mcpUrl, `${stack.as.issuer}userinfo`]);
    expect(await callGateway(stack.mcpUrl, accessToken)).toEqual({ status: 200 });
  });

  it('accepts a token requested with RFC 8707 resource (Resource Parameter Compatibility Profile)', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'openid tickets:read' });
    expect(await callGateway(stack.mcpUrl, accessToken)).toEqual({ status: 200 });
    expect((await stack.gateway.verifier.verify(accessToken)).clientId).toEqual(expect.any(String));
  });

  it('lets a policy test the RBAC permissions claim with a claim condition (403 without a challenge)', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'openid tickets:read' });
    const policy = (permission: string) => `tools:\n  - name: list_tickets\n    scopes: []\n    when:\n      permissions: { contains: "${permission}" }\n`;
    expect(decideToolCall(policy('tickets:read'), accessToken, 'list_tickets')).toEqual({ effect: 'allow', reason: 'allowed' });
    expect(decideToolCall(policy('tickets:admin'), accessToken, 'list_tickets')).toEqual({ effect: 'deny', reason: 'claim_condition' });
  });

  it('refuses the opaque token Auth0 issues when neither audience nor resource is sent', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ scope: 'openid tickets:read' });
    expect(accessToken.split('.')).toHaveLength(1);
    expect(await callGateway(stack.mcpUrl, accessToken)).toEqual({ status: 401, error: 'invalid_token' });
  });

  it('refuses a token for another API of the same tenant', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ scope: 'openid other:read', params: { audience: 'https://other-api.example.com' } });
    expect(await callGateway(stack.mcpUrl, accessToken)).toEqual({ status: 401, error: 'invalid_token' });
  });

  it('refuses every token when the issuer is configured without its trailing slash', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'openid tickets:read' });
    const withoutSlash = validateConfig({
      resource: { url: stack.mcpUrl },
      authorizationServers: [{ issuer: stack.as.issuer.replace(/\/$/, ''), jwksUri: stack.as.jwksUri }],
      upstream: { url: 'http://127.0.0.1:9/mcp' },
    });
    const gateway = await createGateway(withoutSlash, { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } });
    await expect(gateway.verifier.verify(accessToken)).rejects.toMatchObject({ code: 'token_invalid', tokenRejection: 'wrong_issuer' });
  });

  it('reads RBAC permissions as scopes only with claimMapping.additionalScopes: [permissions]', async () => {
    const { accessToken } = await stack.as.obtainUserToken({ resource: stack.mcpUrl, scope: 'openid tickets:read' });
    expect((await stack.gateway.verifier.verify(accessToken)).scopes.has('tickets:export')).toBe(false);
    const server = stack.config.authorizationServers[0]!;
    const withPermissions = validateConfig({
      resource: { url: stack.mcpUrl },
      authorizationServers: [{ issuer: server.issuer, algorithms: server.algorithms, claimMapping: { additionalScopes: ['permissions'] } }],
      upstream: { url: 'http://127.0.0.1:9/mcp' },
    });
    const gateway = await createGateway(withPermissions, { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } });
    gateway.verifier.start();
    try {
      await gateway.verifier.issuers[0]!.whenReady();
      expect([...(await gateway.verifier.verify(accessToken)).scopes].sort()).toEqual(['tickets:export', 'tickets:read']);
    } finally {
      gateway.verifier.stop();
    }
  });
});
