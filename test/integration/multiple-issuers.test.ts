/**
 * Several authorization servers at once, each with its own way of checking tokens, audiences
 * and claim mapping: one issues JWTs for the gateway's URL (verified with its JWKS), the other
 * opaque tokens for a fixed API identifier (introspection, Entra-style roles as scopes). The
 * token's `iss` (JWT) or the introspection answer picks the issuer; a policy decides on the
 * mapped scopes of either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';

/** The second issuer ignores RFC 8707 and puts a fixed API identifier in aud (as Auth0 and Okta do). */
const API_IDENTIFIER = 'urn:tickets-api';
const GATEWAY_CLIENT = { client_id: 'mcp-gateway', client_secret: 'gateway-introspection-secret-0123456789' };

const policies = copyPolicies();
let opaqueAs: DemoAuthorizationServer;
let stack: Stack;
beforeAll(async () => {
  opaqueAs = await startDemoAuthorizationServer({
    introspection: true,
    resources: [{ resource: API_IDENTIFIER, scopes: ['tickets:read'], accessTokenFormat: 'opaque' }],
    user: { sub: 'opaque-user', claims: { roles: ['tickets:triage'] } },
    clients: [{ ...GATEWAY_CLIENT, grant_types: [], response_types: [], redirect_uris: [] }],
  });
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({
      ...config,
      authorizationServers: [
        ...config.authorizationServers,
        {
          issuer: opaqueAs.issuer,
          audiences: [API_IDENTIFIER],
          claimMapping: { additionalScopes: ['roles'] },
          introspection: { clientId: GATEWAY_CLIENT.client_id, clientSecret: GATEWAY_CLIENT.client_secret, introspectJwts: true, failureCooldownMs: 100 },
        },
      ],
    }),
  });
});
afterAll(async () => {
  await stack?.close();
  await opaqueAs?.close();
  policies.remove();
});

const createTicket = (token: string) =>
  mcpPost(
    stack.mcpUrl,
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'create_ticket', arguments: { title: 'x' } } },
    { ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'create_ticket' },
  );

describe('two issuers at once', () => {
  it('advertises both in the protected resource metadata; each is ready in its own way', async () => {
    const prm = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', stack.mcpUrl))).json()) as { authorization_servers: string[] };
    expect(prm.authorization_servers).toEqual([stack.as.issuer, opaqueAs.issuer]);
    const states = stack.gateway.verifier.issuers.map((issuer) => issuer.state);
    expect(states).toEqual([
      { status: 'ready', jwksUri: stack.as.jwksUri },
      { status: 'ready', introspectionEndpoint: opaqueAs.introspectionEndpoint },
    ]);
  });

  it('a JWT from the first is verified with its keys; an opaque token from the second by introspection', async () => {
    const jwt = await stack.obtainToken();
    const opaque = (await opaqueAs.obtainUserToken({ resource: API_IDENTIFIER, scope: 'tickets:read' })).accessToken;
    for (const token of [jwt, opaque]) {
      const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(token));
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(await stack.gateway.verifier.verify(jwt)).toMatchObject({ issuer: stack.as.issuer, authenticationMethod: 'jwt' });
    expect(await stack.gateway.verifier.verify(opaque)).toMatchObject({ issuer: opaqueAs.issuer, subject: 'opaque-user', authenticationMethod: 'introspection' });
  });

  it('each issuer has its own audiences: the API identifier is accepted only from the second', async () => {
    const forApiIdentifier = await craftToken(stack.as, API_IDENTIFIER);
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(forApiIdentifier));
    expect(response.status).toBe(401);
    await response.text();
  });

  it('each issuer has its own claim mapping: roles are scopes for the second only, and the policy decides on them', async () => {
    const opaque = (await opaqueAs.obtainUserToken({ resource: API_IDENTIFIER, scope: 'tickets:read' })).accessToken;
    const allowed = await createTicket(opaque);
    expect(allowed.status).toBe(200);
    await allowed.text();
    // The same roles claim in a JWT of the first issuer grants nothing there.
    const jwtWithRoles = await craftToken(stack.as, stack.mcpUrl, { claims: { roles: ['tickets:triage'] } });
    const refused = await createTicket(jwtWithRoles);
    expect(refused.status).toBe(403);
    await refused.text();
  });

  it('with the second issuer down, JWTs of the first still pass and its opaque tokens get 503', async () => {
    const opaque = (await opaqueAs.obtainUserToken({ resource: API_IDENTIFIER, scope: 'tickets:read' })).accessToken;
    await opaqueAs.suspend();
    try {
      const jwt = await craftToken(stack.as, stack.mcpUrl);
      const fine = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(jwt));
      expect(fine.status).toBe(200);
      await fine.text();
      const unavailable = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(opaque));
      expect(unavailable.status).toBe(503);
      await unavailable.text();
    } finally {
      await opaqueAs.resume();
    }
  });
});
