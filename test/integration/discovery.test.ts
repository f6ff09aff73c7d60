/**
 * RFC 9728 discovery as the official SDK client performs it.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
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

/** A request over real HTTP with the headers as given (fetch would not send another Host). */
function rawRequest(origin: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe('the 401 challenge', () => {
  let gateway: Gateway;
  let origin: string;
  beforeAll(async () => {
    const config = validateConfig({
      listen: { host: '127.0.0.1', port: 0 },
      resource: { url: 'https://mcp.example.com/mcp', challengeScopes: ['tickets:read'] },
      authorizationServers: [{ issuer: 'https://auth.example.com', jwksUri: 'http://127.0.0.1:9/jwks' }],
      upstream: { url: 'http://127.0.0.1:9/mcp' },
      shutdown: { lameDuckMs: 0 },
      // Records would go to stdout, into the test run's output.
      audit: { enabled: false },
    });
    gateway = await createGateway(config, { logger: silentLogger });
    origin = (await gateway.start()).origin;
  });
  afterAll(() => gateway?.stop());

  it('points at the absolute PRM URL built from the configured URL, never from the Host header', async () => {
    const response = await rawRequest(origin, 'POST', '/mcp', { host: 'evil.example', 'content-type': 'application/json' }, '{}');
    expect(response.status).toBe(401);
    const header = response.headers['www-authenticate'] as string | undefined;
    expect(header?.startsWith('Bearer ')).toBe(true);
    expect(parseChallenge(header ?? null).params).toEqual({
      resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      scope: 'tickets:read',
    });
    expect(JSON.parse(response.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001 } });
  });

  it('protects GET and DELETE and every spelling of the endpoint path (trailing slash, query, percent-encoding)', async () => {
    for (const [method, path] of [['GET', '/mcp'], ['DELETE', '/mcp'], ['POST', '/mcp/'], ['POST', '/mcp?x=1'], ['POST', '/%6Dcp']] as const) {
      const response = await rawRequest(origin, method, path, {});
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers['www-authenticate'], `${method} ${path}`).toMatch(/^Bearer resource_metadata=/);
    }
  });
});
