/**
 * docs/idp/google.md: Google-shaped ID tokens (iss https://accounts.google.com, aud = the
 * requested audience, typ JWT, email, azp, no scope) pass with the recipe's config and policy.
 * Near misses: the scheme-less issuer form, an ID token for another audience, an opaque access
 * token (Google has no RFC 7662 endpoint, so no introspection can vouch for it), and a valid ID
 * token of a Google account the policy does not name.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGateway, readRecipePolicy, recipeConfig } from '../helpers/idp-recipe.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';

const OTHER_AUDIENCE = 'https://other-service.example.com';
const SERVICE_ACCOUNT = { email: 'tickets-bot@my-project.iam.gserviceaccount.com', email_verified: true };

const policies = copyPolicies({ 'google.yaml': readRecipePolicy('google.md', 'google') }, { fromExamples: false });
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    policyDirectory: policies.directory,
    as: ({ mcpUrl }) => ({
      issuer: () => 'https://accounts.google.com',
      signingAlg: 'RS256',
      resources: [
        { resource: mcpUrl, scopes: ['openid'], audience: mcpUrl },
        { resource: OTHER_AUDIENCE, scopes: ['openid'] },
      ],
      // An ID token: no scope, no client_id, no jti; the service account's identity.
      shapeAccessToken: ({ header, payload }) => {
        header.typ = 'JWT';
        payload.azp = '107311234567890123456';
        payload.sub = '107311234567890123456';
        Object.assign(payload, SERVICE_ACCOUNT);
        delete payload.scope;
        delete payload.client_id;
        delete payload.jti;
      },
    }),
    config: (base, { as }) => recipeConfig({ doc: 'google.md', name: 'google', localJwks: true })(base, as),
  });
});
afterAll(async () => {
  await stack?.close();
  policies.remove();
});

describe('Google recipe (ID tokens)', () => {
  it('accepts a Google-shaped ID token for the gateway URL', async () => {
    const token = await stack.obtainToken('openid');
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: 'https://accounts.google.com', aud: stack.mcpUrl, email: expect.any(String) });
    expect(payload).not.toHaveProperty('scope');
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 200 });
    expect((await stack.gateway.verifier.verify(token)).clientId).toBe('107311234567890123456');
  });

  it('refuses an ID token requested for another audience', async () => {
    const token = await stack.obtainToken('openid', OTHER_AUDIENCE);
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });

  it('refuses the scheme-less issuer form accounts.google.com', async () => {
    const token = await craftToken(stack.as, stack.mcpUrl, { claims: { iss: 'accounts.google.com', ...SERVICE_ACCOUNT }, header: { typ: 'JWT' } });
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
    // The same token with the URL form passes: only the issuer differs.
    const control = await craftToken(stack.as, stack.mcpUrl, { claims: { iss: 'https://accounts.google.com', ...SERVICE_ACCOUNT }, header: { typ: 'JWT' } });
    expect(await callGateway(stack.mcpUrl, control)).toEqual({ status: 200 });
  });

  it("refuses, with the recipe's policy, a valid ID token of a Google account it does not name (403, no challenge)", async () => {
    const stranger = await craftToken(stack.as, stack.mcpUrl, {
      claims: { iss: 'https://accounts.google.com', email: 'someone@gmail.com', email_verified: true, scope: undefined },
      header: { typ: 'JWT' },
    });
    expect(await callGateway(stack.mcpUrl, stranger)).toEqual({ status: 403 });
    const record = stack.auditRecords().findLast((r) => r.who?.subject === 'demo-user' && r.outcome.status === 403);
    expect(record?.decision).toMatchObject({ effect: 'deny', reason: 'claim_condition', rules: [expect.objectContaining({ id: 'google-callers' })] });
  });

  it('refuses an opaque Google access token (Google offers no RFC 7662 introspection)', async () => {
    const opaque = `ya29.${randomBytes(60).toString('base64url')}`;
    expect(await callGateway(stack.mcpUrl, opaque)).toEqual({ status: 401, error: 'invalid_token' });
  });
});
