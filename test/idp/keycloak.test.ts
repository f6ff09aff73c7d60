/**
 * docs/idp/keycloak.md: tokens shaped like Keycloak's (issuer under /realms/<realm>, typ JWT,
 * azp, aud from an Audience mapper next to "account") pass with the recipe's config; a token
 * issued without the Audience mapper (aud "account" only) is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGateway, originOf, recipeConfig } from '../helpers/idp-recipe.js';
import { startStack, type Stack } from '../helpers/stack.js';

const NO_MAPPER = 'http://127.0.0.1:1/scope-without-audience-mapper';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    as: ({ mcpUrl }) => ({
      issuer: (origin) => `${origin}/realms/mcp`,
      signingAlg: 'RS256',
      resources: [
        // The Audience mapper's "Included Custom Audience" is the gateway's resource URL.
        { resource: mcpUrl, scopes: ['tickets:read'], audience: mcpUrl },
        { resource: NO_MAPPER, scopes: ['tickets:read'], audience: 'account' },
      ],
      shapeAccessToken: ({ header, payload }) => {
        header.typ = 'JWT';
        payload.aud = [...new Set([payload.aud, 'account'].flat())];
        payload.azp = payload.client_id;
        delete payload.client_id;
        payload.scope = `openid profile email ${String(payload.scope)}`;
        payload.preferred_username = 'alice';
      },
    }),
    config: (base, { as }) => recipeConfig({ doc: 'keycloak.md', name: 'keycloak', hosts: { 'https://keycloak.example.com': originOf(as) } })(base, as),
  });
});
afterAll(async () => stack?.close());

describe('Keycloak recipe', () => {
  it('configures the realm issuer, discovered path-appended', () => {
    expect(stack.config.authorizationServers[0]?.issuer).toBe(`${originOf(stack.as)}/realms/mcp`);
    expect(stack.config.authorizationServers[0]?.jwksUri).toBeUndefined();
    expect(stack.gateway.verifier.issuers[0]?.state).toMatchObject({ status: 'ready', jwksUri: `${stack.as.issuer}/jwks` });
  });

  it('accepts a Keycloak-shaped token whose aud holds the mapper audience next to "account"', async () => {
    const token = await stack.obtainToken('tickets:read');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 200 });
    const principal = await stack.gateway.verifier.verify(token);
    expect([...principal.scopes]).toEqual(expect.arrayContaining(['openid', 'tickets:read']));
    expect(principal.clientId).toEqual(expect.any(String));
  });

  it('refuses a token issued without the Audience mapper (aud "account" only)', async () => {
    const token = await stack.obtainToken('tickets:read', NO_MAPPER);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud).toEqual(['account']);
    expect(await callGateway(stack.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });
});
