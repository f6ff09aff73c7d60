/**
 * RFC 9728 discovery as the official SDK client performs it.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { parseChallenge } from '../helpers/mcp-requests.js';

async function gatewayFor(resource: Partial<GatewayConfigInput['resource']> & { url: string }) {
  const config = validateConfig({
    resource: { challengeScopes: ['tickets:read'], ...resource },
    authorizationServers: [{ issuer: 'https://auth.example.com', jwksUri: 'https://auth.example.com/jwks' }],
    upstream: { url: 'http://127.0.0.1:9/mcp' },
  });
  return (await createGateway(config, { logger: silentLogger })).app;
}

describe('protected resource metadata', async () => {
  const app = await gatewayFor({ url: 'https://mcp.example.com/mcp', name: 'Tickets', documentation: 'https://docs.example.com/' });

  it('is served at the path-inserted well-known URL', async () => {
    const response = await app.request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://auth.example.com'],
      scopes_supported: ['tickets:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Tickets',
      resource_documentation: 'https://docs.example.com/',
    });
  });

  it('answers a CORS preflight without authentication', async () => {
    const response = await app.request('/.well-known/oauth-protected-resource/mcp', {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('does not serve a root document whose resource would not fit the root (4xx lets clients move on)', async () => {
    const response = await app.request('/.well-known/oauth-protected-resource');
    expect(response.status).toBe(404);
  });

  it('serves the root document when the MCP endpoint is the root', async () => {
    const rootApp = await gatewayFor({ url: 'https://mcp.example.com/' });
    const response = await rootApp.request('/.well-known/oauth-protected-resource');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource: 'https://mcp.example.com/' });
  });

  it('omits scopes_supported when none are configured, and never lists offline_access', async () => {
    const bare = await gatewayFor({ url: 'https://mcp.example.com/mcp', challengeScopes: [] });
    const document = (await (await bare.request('/.well-known/oauth-protected-resource/mcp')).json()) as Record<string, unknown>;
    expect(document).not.toHaveProperty('scopes_supported');
    expect(() =>
      validateConfig({
        resource: { url: 'https://mcp.example.com/mcp', scopesSupported: ['offline_access'] },
        authorizationServers: [{ issuer: 'https://auth.example.com' }],
        upstream: { url: 'http://127.0.0.1:9/mcp' },
      }),
    ).toThrow(/offline_access/);
  });
});

describe('the 401 challenge', async () => {
  const app = await gatewayFor({ url: 'https://mcp.example.com/mcp' });

  it('points at the absolute PRM URL built from the configured URL, never from the Host header', async () => {
    const response = await app.request('http://evil.example/mcp', {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    const header = response.headers.get('www-authenticate');
    expect(header?.startsWith('Bearer ')).toBe(true);
    expect(parseChallenge(header).params).toEqual({
      resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      scope: 'tickets:read',
    });
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001 } });
  });

  it('protects GET and DELETE and the trailing-slash form of the endpoint too', async () => {
    for (const [method, path] of [['GET', '/mcp'], ['DELETE', '/mcp'], ['POST', '/mcp/']] as const) {
      const response = await app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });
});
