import { CompactSign, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type TokenVerifier } from '../../../src/auth/index.js';
import type { AuthorizationServerConfig } from '../../../src/config/index.js';
import { GatewayError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/index.js';

const ISSUER = 'https://as.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
let key: CryptoKey;
let verifier: TokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
  const server: AuthorizationServerConfig = {
    issuer: ISSUER,
    jwksUri: `${ISSUER}/jwks`,
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
    requireAccessTokenType: false,
    jwksRefreshIntervalSeconds: 600,
    jwksCooldownSeconds: 30,
    metadataTimeoutMs: 1000,
  } as AuthorizationServerConfig;
  verifier = createTokenVerifier({
    authorizationServers: [server],
    defaultAudiences: [RESOURCE],
    cache: { maxEntries: 100, maxTtlSeconds: 60 },
    logger: silentLogger,
    fetch: async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } }),
  });
  verifier.start();
  await Promise.all(verifier.issuers.map((keys) => keys.whenReady()));
});
afterAll(() => verifier?.stop());

function sign(claims: JWTPayload): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: RESOURCE, client_id: 'agent', scope: 'a', exp: now + 300, ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key);
}

async function rejection(token: string): Promise<string | undefined> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return (error as GatewayError).tokenRejection;
  }
  return undefined;
}

describe('createTokenVerifier', () => {
  it('takes the subject from a string sub', async () => {
    expect((await verifier.verify(await sign({ sub: 'alice' }))).subject).toBe('alice');
  });

  it.each([
    ['a number', 12345],
    ['an object', { id: 'alice' }],
    ['a list', ['alice']],
    ['null', null],
  ])('refuses a sub that is %s (RFC 7519 §4.1.2: a StringOrURI), instead of falling back to the client id', async (_name, sub) => {
    // The fallback would make every such user one principal: one rate limit, shared sessions.
    expect(await rejection(await sign({ sub: sub as never }))).toBe('malformed');
  });

  it.each([
    ['nbf in the future', { nbf: Math.floor(Date.now() / 1000) + 3600 }, 'not_yet_valid'],
    ['nbf a string', { nbf: '0' }, 'malformed'],
    ['iat a string', { iat: 'now' }, 'malformed'],
    ['exp a string', { exp: 'never' }, 'malformed'],
  ])('names the reason for %s in the audit trail', async (_name, claims, reason) => {
    expect(await rejection(await signUnchecked({ sub: 'alice', ...claims }))).toBe(reason);
  });
});

/** SignJWT refuses non-numeric dates; an attacker's encoder does not. */
async function signUnchecked(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: ISSUER, aud: RESOURCE, exp: now + 300, ...claims };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key);
}
