/**
 * The promise: an MCP client that knows only the gateway's URL registers (dynamic
 * registration, or its client ID metadata document), consents, logs in at an identity provider
 * that offers no registration at all, and calls tools — with the official SDK client, a real
 * oidc-provider identity provider and a real upstream.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth } from '../../src/demo/headless-oauth-client.js';
import { IDP_CLIENT_ID, startFacadeStack, type FacadeStack } from '../helpers/facade-stack.js';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.js';
import { SERVICE_KEY } from '../helpers/stack.js';

const REDIRECT_URL = 'http://127.0.0.1:8976/callback';
let fixture: HttpsFixture;
let stack: FacadeStack;
beforeAll(async () => {
  fixture = await startHttpsFixture();
  stack = await startFacadeStack({ cimdFixture: fixture });
});
afterAll(async () => {
  await stack?.close();
  await fixture?.close();
});

describe('official SDK client against the facade', () => {
  it('the identity provider really offers no dynamic registration', async () => {
    const response = await fetch(`${stack.idp.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URL] }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const metadata = (await (await fetch(`${stack.idp.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it('registers dynamically, consents before the identity provider, logs in, lists and calls tools', async () => {
    const browser = stack.browser();
    const provider = stack.provider({ browser });
    const { client } = await connectWithOAuth(stack.mcpUrl, { provider });

    // The SDK found the facade from the PRM, registered there, and asked for this resource with S256.
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${stack.issuer}/oauth/authorize`);
    expect(authorizationUrl.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(provider.clientInformation()?.client_id).toMatch(/^mcp-/);

    // Consent (POST to the gateway) happened before the browser ever reached the identity provider.
    const firstAtIdp = browser.visited.findIndex((url) => url.origin === new URL(stack.idp.issuer).origin);
    const consentPost = browser.visited.findIndex((url) => url.pathname === '/oauth/consent');
    expect(consentPost).toBeGreaterThan(0);
    expect(firstAtIdp).toBeGreaterThan(consentPost);

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('echo');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'via the facade' } });
    expect(result.content).toEqual([{ type: 'text', text: 'via the facade' }]);

    // The gateway's own token: typed, for this resource, the IdP's user and groups, the SDK's client.
    const token = provider.tokens()!.access_token;
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    expect(decodeJwt(token)).toMatchObject({
      iss: stack.issuer,
      aud: stack.mcpUrl,
      sub: 'alice',
      client_id: provider.clientInformation()!.client_id,
      scope: 'tickets:read',
      groups: ['staff'],
      email: 'alice@example.com',
    });
    expect(provider.tokens()!.refresh_token).toBeTruthy();
    await client.close();

    // The upstream saw the service key and never the token; nor did the log.
    for (const request of stack.upstream.seen) {
      expect(request.headers['x-api-key']).toBe(SERVICE_KEY);
      expect(JSON.stringify(request)).not.toContain(token);
    }
    expect(stack.logOutput()).not.toContain(token);
    expect(stack.logOutput()).not.toContain(provider.tokens()!.refresh_token!);
    // The identity provider saw only the gateway's pre-registered client.
    expect(stack.idp.tokenRequests.map((request) => request.clientId)).toEqual([IDP_CLIENT_ID]);
  });

  it('uses a client ID metadata document when given its URL (no registration), then calls a tool', async () => {
    const clientMetadataUrl = `${fixture.origin}/oauth/client.json`;
    fixture.json(
      '/oauth/client.json',
      {
        client_id: clientMetadataUrl,
        client_name: 'CIMD test client',
        redirect_uris: [REDIRECT_URL],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      { 'cache-control': 'max-age=300' },
    );
    let consentHtml = '';
    const browser = stack.browser({ onConsentPage: (page) => (consentHtml = page.html) });
    const provider = stack.provider({ browser, clientMetadataUrl });
    const { client } = await connectWithOAuth(stack.mcpUrl, { provider });

    expect(provider.authorizationUrls.at(-1)!.searchParams.get('client_id')).toBe(clientMetadataUrl);
    expect(provider.clientInformation()?.client_id).toBe(clientMetadataUrl);
    expect(fixture.requests).toContain('/oauth/client.json');
    // The consent page names the client and the host its id is published at, and warns about the local redirect.
    expect(consentHtml).toContain('CIMD test client');
    expect(consentHtml).toContain(`published at ${new URL(fixture.origin).host}`);
    expect(consentHtml).toContain('127.0.0.1:8976');
    expect(consentHtml).toMatch(/application on your own computer/);

    const result = await client.callTool({ name: 'echo', arguments: { text: 'cimd' } });
    expect(result.content).toEqual([{ type: 'text', text: 'cimd' }]);
    expect(decodeJwt(provider.tokens()!.access_token).client_id).toBe(clientMetadataUrl);
    await client.close();
  });
});
