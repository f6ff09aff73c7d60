/**
 * The demo upstream's caller checks, which the upstream-identity tests rely on: a bearer JWT
 * verified against an AS's JWKS, revocation, the gateway's identity JWT, and mutual TLS.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream-server.js';
import { TLS } from '../helpers/tls-fixtures.js';

const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
const stateless = { 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };
const SERVICE = { client_id: 'svc', client_secret: 'svc-secret-that-is-long-enough-000000' };

let as: DemoAuthorizationServer;
const closers: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  as = await startDemoAuthorizationServer({
    resources: [{ resource: 'http://127.0.0.1:9/upstream', scopes: ['tickets:read'] }],
    clients: [{ ...SERVICE, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
  });
  closers.push(() => as.close());
});
afterAll(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function upstreamWith(options: Parameters<typeof startDemoUpstream>[0]): Promise<DemoUpstream> {
  const upstream = await startDemoUpstream(options);
  closers.push(() => upstream.close());
  return upstream;
}

async function clientCredentialsToken(resource = 'http://127.0.0.1:9/upstream'): Promise<string> {
  const response = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'tickets:read' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('demo upstream caller checks', () => {
  it('requires a bearer JWT for its audience, records its claims, and refuses it once revoked', async () => {
    const upstream = await upstreamWith({
      requireBearerJwt: { issuer: as.issuer, jwksUri: as.jwksUri, audience: 'http://127.0.0.1:9/upstream' },
    });
    const missing = await fetch(upstream.url, { method: 'POST', headers: stateless, body: ping });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    await missing.text();

    const token = await clientCredentialsToken();
    const accepted = await fetch(upstream.url, { method: 'POST', headers: { ...stateless, authorization: `Bearer ${token}` }, body: ping });
    expect(accepted.status).toBe(200);
    await accepted.text();
    const verified = upstream.seen.at(-1)!.verified.bearer!;
    expect(verified).toMatchObject({ client_id: 'svc', aud: 'http://127.0.0.1:9/upstream' });

    upstream.revokeToken(String(verified.jti));
    const revoked = await fetch(upstream.url, { method: 'POST', headers: { ...stateless, authorization: `Bearer ${token}` }, body: ping });
    expect(revoked.status).toBe(401);
    await revoked.text();
  });

  it('verifies an identity JWT in a header against a JWKS', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    const jwksServer: Server = createServer((_req, res) => res.end(jwks));
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => jwksServer.close(resolve)));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const upstream = await upstreamWith({
      verifyIdentityJwt: { header: 'x-mcp-identity', issuer: 'https://gw', audience: 'up', jwksUri, typ: 'mcp-identity+jwt' },
    });
    const sign = (typ: string) =>
      new SignJWT({ client_id: 'agent' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ })
        .setIssuer('https://gw')
        .setAudience('up')
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(privateKey);

    const good = await fetch(upstream.url, { method: 'POST', headers: { ...stateless, 'x-mcp-identity': await sign('mcp-identity+jwt') }, body: ping });
    expect(good.status).toBe(200);
    await good.text();
    expect(upstream.seen.at(-1)!.verified.identity).toMatchObject({ kid: 'k1', claims: { sub: 'alice', client_id: 'agent' } });

    const wrongType = await fetch(upstream.url, { method: 'POST', headers: { ...stateless, 'x-mcp-identity': await sign('JWT') }, body: ping });
    expect(wrongType.status).toBe(401);
    await wrongType.text();
  });

  it('serves HTTPS and, with client certificates requested, accepts only clients the CA issued', async () => {
    const upstream = await upstreamWith({
      tls: { cert: TLS.serverCertificate, key: TLS.serverKey, ca: TLS.ca, requestClientCertificate: true },
    });
    expect(upstream.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const withCertificate = new Agent({ connect: { ca: TLS.ca, cert: TLS.clientCertificate, key: TLS.clientKey } });
    const withoutCertificate = new Agent({ connect: { ca: TLS.ca } });
    closers.push(() => withCertificate.close(), () => withoutCertificate.close());

    const accepted = await undiciFetch(upstream.url, { method: 'POST', headers: stateless, body: ping, dispatcher: withCertificate });
    expect(accepted.status).toBe(200);
    await accepted.text();
    expect(upstream.seen.at(-1)!.verified.clientCertificate?.subject).toContain('CN=mcp-auth-gateway');

    await expect(undiciFetch(upstream.url, { method: 'POST', headers: stateless, body: ping, dispatcher: withoutCertificate })).rejects.toThrow();
  });
});
