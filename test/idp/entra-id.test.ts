/**
 * docs/idp/entra-id.md: Entra-shaped v2.0 tokens (issuer /<tenant>/v2.0, aud = the API's client
 * id, scp string, azp) and v1.0 tokens (issuer https://sts.windows.net/<tenant>/, aud = App ID
 * URI, appid) pass with the matching recipe config, the client id read from azp or appid and the
 * app roles counted as scopes; each is refused by the other config, and a
 * token for another app is refused. With claimMapping.scopePrefix the recipe's policy decides on
 * qualified scopes and a step-up challenge names them in the form Entra understands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { explainDecision, parsePolicyFiles, parseRequestInput } from '../../src/policy/index.js';
import { callGateway, decideToolCall, originOf, readRecipePolicy, recipeConfig } from '../helpers/idp-recipe.js';
import { startStack, type Stack } from '../helpers/stack.js';

const TENANT = '11111111-2222-3333-4444-555555555555';
const API_CLIENT_ID = '00000000-1111-2222-3333-444444444444';
const OTHER_APP = 'http://127.0.0.1:1/other-app';

function entraShape(version: '1.0' | '2.0') {
  return ({ header, payload }: { header: Record<string, unknown>; payload: Record<string, unknown> }) => {
    header.typ = 'JWT';
    payload.scp = payload.scope;
    payload[version === '2.0' ? 'azp' : 'appid'] = payload.client_id;
    payload.tid = TENANT;
    payload.oid = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    payload.ver = version;
    payload.roles = ['Tickets.Admin'];
    delete payload.scope;
    delete payload.client_id;
  };
}

let v2: Stack;
let v1: Stack;
beforeAll(async () => {
  [v2, v1] = await Promise.all([
    startStack({
      as: ({ mcpUrl }) => ({
        issuer: (origin) => `${origin}/${TENANT}/v2.0`,
        signingAlg: 'RS256',
        resources: [
          { resource: mcpUrl, scopes: ['tickets.read'], audience: API_CLIENT_ID },
          { resource: OTHER_APP, scopes: ['tickets.read'], audience: '99999999-8888-7777-6666-555555555555' },
        ],
        shapeAccessToken: entraShape('2.0'),
      }),
      config: (base, { as }) => recipeConfig({ doc: 'entra-id.md', name: 'entra-v2', hosts: { 'https://login.microsoftonline.com': originOf(as) } })(base, as),
    }),
    startStack({
      as: ({ mcpUrl }) => ({
        issuer: () => `https://sts.windows.net/${TENANT}/`,
        signingAlg: 'RS256',
        resources: [{ resource: mcpUrl, scopes: ['tickets.read'], audience: `api://${API_CLIENT_ID}` }],
        shapeAccessToken: entraShape('1.0'),
      }),
      config: (base, { as }) => recipeConfig({ doc: 'entra-id.md', name: 'entra-v1', localJwks: true })(base, as),
    }),
  ]);
});
afterAll(async () => Promise.all([v2?.close(), v1?.close()]));

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('Entra ID recipe, v2.0 tokens', () => {
  it('discovers the keys from the v2.0 issuer and challenges for the qualified scope', async () => {
    expect(v2.gateway.verifier.issuers[0]?.state).toMatchObject({ status: 'ready', jwksUri: v2.as.jwksUri });
    const challenge = (await fetch(v2.mcpUrl, { method: 'POST' })).headers.get('www-authenticate');
    expect(challenge).toContain(`scope="api://${API_CLIENT_ID}/tickets.read"`);
  });

  it('accepts a v2.0 token (aud = client id GUID, scp string, azp)', async () => {
    const token = await v2.obtainToken('tickets.read');
    expect(payloadOf(token)).toMatchObject({ aud: API_CLIENT_ID, scp: 'tickets.read', ver: '2.0', iss: v2.as.issuer });
    expect(await callGateway(v2.mcpUrl, token)).toEqual({ status: 200 });
    const principal = await v2.gateway.verifier.verify(token);
    // scp, plus the app roles (claimMapping.additionalScopes: [roles]).
    expect([...principal.scopes].sort()).toEqual(['Tickets.Admin', 'tickets.read']);
    expect(principal.clientId).toBe(payloadOf(token).azp);
  });

  it('policies see the unqualified scope; a step-up challenge would name it unqualified too', async () => {
    const token = await v2.obtainToken('tickets.read');
    const policy = 'tools:\n  - name: list_tickets\n    scopes: [tickets.read]\n  - name: create_ticket\n    scopes: [tickets.write]\n';
    expect(decideToolCall(policy, token, 'list_tickets')).toEqual({ effect: 'allow', reason: 'allowed' });
    // What the doc warns about: Entra's v2.0 endpoint would read these as Microsoft Graph scopes.
    expect(decideToolCall(policy, token, 'create_ticket').challenge).toContain('scope="tickets.read tickets.write"');
  });

  it('refuses a v2.0 token for another app of the tenant', async () => {
    const token = await v2.obtainToken('tickets.read', OTHER_APP);
    expect(await callGateway(v2.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });

  it('refuses a v1.0 token (the API left on the default token version)', async () => {
    const token = await v1.obtainToken('tickets.read');
    expect(await callGateway(v2.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });
});

describe('Entra ID recipe, v1.0 tokens', () => {
  it('accepts a v1.0 token (iss sts.windows.net with trailing slash, aud = App ID URI, appid)', async () => {
    const token = await v1.obtainToken('tickets.read');
    expect(payloadOf(token)).toMatchObject({ iss: `https://sts.windows.net/${TENANT}/`, aud: `api://${API_CLIENT_ID}`, ver: '1.0' });
    expect(await callGateway(v1.mcpUrl, token)).toEqual({ status: 200 });
    // The client is named by appid in v1.0 (claimMapping.clientId: [appid]).
    const principal = await v1.gateway.verifier.verify(token);
    expect(principal.clientId).toEqual(expect.any(String));
    expect(principal.clientId).toBe(payloadOf(token).appid);
    expect(principal.scopes.has('Tickets.Admin')).toBe(true);
  });

  it('refuses a v2.0 token', async () => {
    const token = await v2.obtainToken('tickets.read');
    expect(await callGateway(v1.mcpUrl, token)).toEqual({ status: 401, error: 'invalid_token' });
  });
});

describe('Entra ID recipe, v2.0 tokens with qualified scopes (claimMapping.scopePrefix)', () => {
  it('sees api://<client-id>/tickets.read, and a step-up challenge names qualified scopes', async () => {
    const base = { resource: { url: v2.mcpUrl }, authorizationServers: [], upstream: { url: 'http://127.0.0.1:9/mcp' } };
    const config = validateConfig(
      recipeConfig({ doc: 'entra-id.md', name: 'entra-v2-qualified', hosts: { 'https://login.microsoftonline.com': originOf(v2.as) } })(base, v2.as),
    );
    const gateway = await createGateway(config, { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } });
    gateway.verifier.start();
    try {
      await gateway.verifier.issuers[0]!.whenReady();
      const principal = await gateway.verifier.verify(await v2.obtainToken('tickets.read'));
      const qualified = `api://${API_CLIENT_ID}/tickets.read`;
      expect([...principal.scopes].sort()).toEqual(['Tickets.Admin', qualified]);

      const { policy } = parsePolicyFiles([{ file: 'entra.yaml', text: readRecipePolicy('entra-id.md', 'entra-v2-qualified') }]);
      const decide = (tool: string, caller = principal) =>
        explainDecision(policy, caller, parseRequestInput({ method: 'tools/call', params: { name: tool } }), { resourceMetadataUrl: 'https://mcp.example.com/prm' });
      expect(decide('list_tickets').effect).toBe('allow');
      // The app role satisfies create_ticket; without it, the step-up names the qualified scopes.
      expect(decide('create_ticket').effect).toBe('allow');
      const userOnly = { ...principal, scopes: new Set([qualified]) };
      expect(decide('create_ticket', userOnly).response?.wwwAuthenticate).toContain(`scope="${qualified} api://${API_CLIENT_ID}/tickets.write"`);
    } finally {
      gateway.verifier.stop();
    }
  });
});
