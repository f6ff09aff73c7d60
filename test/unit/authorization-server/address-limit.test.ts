/** The per-address limit on registration and authorization, through the gateway's app. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/authorization-server/address-limit.js';
import { validateConfig } from '../../../src/config/index.js';
import { createGateway, type Gateway } from '../../../src/gateway.js';
import { silentLogger } from '../../../src/log/index.js';

const directory = mkdtempSync(join(tmpdir(), 'facade-limit-'));
let gateway: Gateway | undefined;
afterAll(async () => {
  await gateway?.authorizationServer?.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('per-address limit of the facade', () => {
  it('answers 429 with Retry-After once an address spent its burst, on registration and authorization alike', async () => {
    const config = validateConfig({
      resource: { url: 'http://127.0.0.1:1/mcp' },
      upstream: { url: 'http://127.0.0.1:2/mcp' },
      authorizationServer: {
        identityProvider: { issuer: 'http://127.0.0.1:3', clientId: 'gw', clientSecret: 'secret' },
        signingKeys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }],
        scopes: ['a'],
        storage: { directory },
        rateLimit: { requestsPerMinute: 1, burst: 2 },
      },
    });
    gateway = await createGateway(config, { logger: silentLogger, auditSink: { type: 'stream', write: () => undefined } });
    const register = () =>
      gateway!.app.request('/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'] }) });
    expect((await register()).status).toBe(201);
    expect((await gateway.app.request('/oauth/authorize?client_id=nobody')).status).toBe(400);
    const limited = await register();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const page = await gateway.app.request('/oauth/authorize?client_id=nobody');
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // The token endpoint is not limited by address.
    expect((await gateway.app.request('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x' })).status).toBe(400);
  });

  it('counts the proxy-appended address only when forwarded headers are trusted', () => {
    const headers = new Headers({ 'x-forwarded-for': '203.0.113.9, 198.51.100.7' });
    expect(clientAddress(headers, '10.0.0.2', true)).toBe('198.51.100.7');
    expect(clientAddress(headers, '10.0.0.2', false)).toBe('10.0.0.2');
  });
});
