/**
 * Identity propagation with real parts: headers filled from the verified token (client copies
 * dropped), and the gateway-signed identity JWT, verified by the upstream with jose against the
 * gateway's JWKS, across a key rotation.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_JWT_TYPE } from '../../src/identity/index.js';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
const stateless = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };
const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
const keyA = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const keyB = generateKeyPairSync('ed25519').privateKey;
// Long enough that the tests before the rotation finish first even on a loaded machine.
const ROTATION_DELAY_MS = 5000;

let stack: Stack;
let rotatesAt: number;
beforeAll(async () => {
  rotatesAt = Date.now() + ROTATION_DELAY_MS + 1000;
  stack = await startStack({
    as: { user: { sub: 'alice', claims: { tenant: 'acme' } } },
    upstream: ({ gatewayOrigin, upstreamUrl }) => ({
      verifyIdentityJwt: {
        header: 'x-mcp-identity',
        issuer: gatewayOrigin,
        audience: upstreamUrl,
        jwksUri: `${gatewayOrigin}/.well-known/jwks.json`,
        typ: IDENTITY_JWT_TYPE,
      },
    }),
    config: (config) => ({
      ...config,
      identity: {
        headers: {
          'X-MCP-User': '{sub}',
          'X-MCP-Client': '{client_id}',
          'X-MCP-Scopes': '{scope}',
          'X-MCP-Tenant': 'tenant={tenant}',
          'X-MCP-Department': '{department}',
        },
        jwt: {
          keys: [
            { privateKey: pem(keyA), kid: 'key-a' },
            { privateKey: JSON.stringify(keyB.export({ format: 'jwk' })), kid: 'key-b', activeFrom: new Date(rotatesAt).toISOString() },
          ],
        },
      },
    }),
  });
});
afterAll(async () => stack?.close());

describe('identity headers', () => {
  it('are filled from the verified token; the client\'s copies are dropped and replaced', async () => {
    const token = await stack.obtainToken('tickets:read tickets:write');
    const response = await mcpPost(stack.mcpUrl, ping, {
      ...bearer(token),
      ...stateless,
      'x-mcp-user': 'admin',
      'X-MCP-Client': 'trusted-agent',
      'x-mcp-scopes': 'admin',
      'x-mcp-department': 'finance',
      'x-mcp-identity': 'forged.jwt.value',
    });
    expect(response.status).toBe(200);
    await response.text();
    const { headers } = stack.upstream.seen.at(-1)!;
    const agent = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).client_id as string;
    expect(headers['x-mcp-user']).toBe('alice');
    expect(headers['x-mcp-client']).toBe(agent);
    expect(headers['x-mcp-scopes']).toBe('tickets:read tickets:write');
    expect(headers['x-mcp-tenant']).toBe('tenant=acme');
    // No `department` claim: the header is not sent, and the client's copy is gone too.
    expect(headers['x-mcp-department']).toBeUndefined();
    expect(headers['x-mcp-identity']).not.toBe('forged.jwt.value');
  });
});

describe('identity JWT', () => {
  it('is verified by the upstream against the gateway JWKS, before and after a key rotation', async () => {
    const token = await stack.obtainToken();
    const jwksUrl = new URL('/.well-known/jwks.json', stack.mcpUrl);

    const before = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...stateless });
    expect(before.status).toBe(200);
    await before.text();
    const first = stack.upstream.seen.at(-1)!;
    expect(first.verified.identity).toMatchObject({ kid: 'key-a' });
    const agent = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).client_id as string;
    const claims = first.verified.identity!.claims;
    expect(claims).toMatchObject({ iss: new URL(stack.mcpUrl).origin, aud: stack.upstream.url, sub: 'alice', client_id: agent, scope: 'tickets:read' });
    // The user's own issuer, so an upstream behind a gateway that trusts several can tell two `alice`s apart.
    expect(claims.sub_id).toEqual({ format: 'iss_sub', iss: stack.as.issuer, sub: 'alice' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    const signedBeforeRotation = first.headers['x-mcp-identity'] as string;

    // The next key is published before it signs, so verifiers can have it cached.
    const published = await fetch(jwksUrl);
    expect(published.headers.get('access-control-allow-origin')).toBe('*');
    const maxAge = Number(/max-age=(\d+)/.exec(published.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeLessThanOrEqual(Math.ceil((rotatesAt - Date.now()) / 1000));
    const jwks = (await published.json()) as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys.map((key) => key.kid)).toEqual(['key-a', 'key-b']);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, rotatesAt - Date.now() + 50)));
    const after = await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...stateless });
    expect(after.status).toBe(200);
    await after.text();
    const second = stack.upstream.seen.at(-1)!;
    expect(second.verified.identity).toMatchObject({ kid: 'key-b', claims: { sub: 'alice' } });
    expect(decodeProtectedHeader(second.headers['x-mcp-identity'] as string)).toMatchObject({ alg: 'EdDSA', typ: IDENTITY_JWT_TYPE });

    // Overlap: the retired key stays published, so a JWT it signed just before still verifies.
    const afterRotation = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
    expect(afterRotation.keys.map((key) => key.kid)).toEqual(['key-a', 'key-b']);
    await expect(
      jwtVerify(signedBeforeRotation, createRemoteJWKSet(jwksUrl), { issuer: new URL(stack.mcpUrl).origin, audience: stack.upstream.url, typ: IDENTITY_JWT_TYPE }),
    ).resolves.toBeDefined();
  });

  it('is reused for the same token within half its lifetime (no signature per request)', async () => {
    const token = await stack.obtainToken();
    for (let index = 0; index < 3; index += 1) await (await mcpPost(stack.mcpUrl, ping, { ...bearer(token), ...stateless })).text();
    const jwts = stack.upstream.seen.slice(-3).map((request) => request.headers['x-mcp-identity']);
    expect(new Set(jwts).size).toBe(1);
  });

  it('the JWKS answers preflight requests and is absent (404) when no identity JWT is configured', async () => {
    const preflight = await fetch(new URL('/.well-known/jwks.json', stack.mcpUrl), { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const plain = await startStack();
    try {
      expect((await fetch(new URL('/.well-known/jwks.json', plain.mcpUrl))).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
