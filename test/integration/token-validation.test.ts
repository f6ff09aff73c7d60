/**
 * Every way a token can be wrong gets a 401 with a usable challenge, and
 * nothing reaches the upstream.
 */
import { createPublicKey } from 'node:crypto';
import { generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { bearer, INITIALIZE, mcpPost, parseChallenge } from '../helpers/mcp-requests.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken, unsignedToken } from '../helpers/tokens.js';

let stack: Stack;
let otherAs: DemoAuthorizationServer;
let prmUrl: string;

beforeAll(async () => {
  stack = await startStack();
  prmUrl = `${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`;
  // A second, real authorization server that the gateway does not trust, minting
  // tokens for the gateway's own resource.
  otherAs = await startDemoAuthorizationServer({ resources: [{ resource: stack.mcpUrl, scopes: ['tickets:read'] }] });
});
afterAll(async () => {
  await stack?.close();
  await otherAs?.close();
});

async function expectRejected(headers: Record<string, string>, { error, url = stack.mcpUrl }: { error?: string; url?: string } = {}) {
  const before = stack.upstream.seen.length;
  const response = await mcpPost(url, INITIALIZE, headers);
  expect(response.status).toBe(401);
  const header = response.headers.get('www-authenticate');
  expect(header).toMatch(/^Bearer /);
  const { params } = parseChallenge(header);
  expect(params.resource_metadata).toBe(prmUrl);
  expect(params.scope).toBe('tickets:read');
  expect(params.error).toBe(error);
  expect(params.error_description ?? '').not.toMatch(/["=]/);
  const body = (await response.json()) as { jsonrpc: string; error: { code: number } };
  expect(body.jsonrpc).toBe('2.0');
  expect(body.error.code).toBe(-32001);
  expect(stack.upstream.seen.length).toBe(before);
  return response;
}

describe('token validation', () => {
  it('accepts a real token for this resource (control)', async () => {
    const response = await mcpPost(stack.mcpUrl, INITIALIZE, bearer(await stack.obtainToken()));
    expect(response.status).toBe(200);
  });

  it('no token → 401 with resource_metadata and scope, no error code', async () => {
    await expectRejected({});
  });

  it.each([
    ['Bearer with nothing after it', 'Bearer', 'invalid_token'],
    ['Bearer with spaces inside the token', 'Bearer abc def', 'invalid_token'],
    ['Bearer with characters outside token68', 'Bearer ab"c', 'invalid_token'],
    ['another scheme', 'Basic dXNlcjpwYXNz', undefined],
  ])('malformed Authorization header (%s) → 401', async (_name, value, error) => {
    await expectRejected({ authorization: value }, { error });
  });

  it('expired token → 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await craftToken(stack.as, stack.mcpUrl, { claims: { iat: now - 600, exp: now - 120 } });
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('token not yet valid (nbf in the future) → 401 invalid_token', async () => {
    const token = await craftToken(stack.as, stack.mcpUrl, { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } });
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('wrong issuer: a real token from an untrusted authorization server → 401', async () => {
    const { accessToken } = await otherAs.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read' });
    await expectRejected(bearer(accessToken), { error: 'invalid_token' });
  });

  it('wrong issuer claim on a token signed with the trusted key → 401', async () => {
    const token = await craftToken(stack.as, stack.mcpUrl, { claims: { iss: `${stack.as.issuer}/evil` } });
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('wrong audience: a real token from the same AS for another resource → 401', async () => {
    const token = await stack.obtainToken('tickets:read', 'http://127.0.0.1:1/other-service');
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('unknown kid → 401 (after a refetch finds no such key)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await craftToken(stack.as, stack.mcpUrl, { key: privateKey, header: { kid: 'no-such-key' } });
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('alg none → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = unsignedToken({ iss: stack.as.issuer, aud: stack.mcpUrl, sub: 'demo-user', scope: 'tickets:read', exp: now + 300 });
    await expectRejected(bearer(token), { error: 'invalid_token' });
  });

  it('HS256 signed with the public key (algorithm confusion) → 401', async () => {
    const jwks = (await (await fetch(stack.as.jwksUri)).json()) as { keys: JWK[] };
    const publicJwk = jwks.keys.find((key) => key.kid === stack.as.currentSigningKey().kid)!;
    const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const token = await craftToken(stack.as, stack.mcpUrl, { alg: 'HS256', key: new TextEncoder().encode(secret) });
      await expectRejected(bearer(token), { error: 'invalid_token' });
    }
  });

  it('a valid token only in the query string → 401, as if there were none', async () => {
    const token = await stack.obtainToken();
    await expectRejected({}, { url: `${stack.mcpUrl}?access_token=${token}` });
  });

  it('a token in the query string next to the header → 400 invalid_request', async () => {
    const token = await stack.obtainToken();
    const before = stack.upstream.seen.length;
    const response = await mcpPost(`${stack.mcpUrl}?access_token=${token}`, INITIALIZE, bearer(token));
    expect(response.status).toBe(400);
    expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBe('invalid_request');
    expect(stack.upstream.seen.length).toBe(before);
  });

  it('writes no token into its log', async () => {
    expect(stack.logOutput()).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
  });
});

describe('key rotation at the authorization server', () => {
  it('tokens signed with a new key validate without restarting the gateway', async () => {
    const before = stack.as.currentSigningKey().kid;
    const oldToken = await stack.obtainToken();
    await stack.as.rotateSigningKey();
    expect(stack.as.currentSigningKey().kid).not.toBe(before);
    // The gateway's cooldown for unknown kids is 1 s in this stack.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const newToken = await stack.obtainToken();
    expect((await mcpPost(stack.mcpUrl, INITIALIZE, bearer(newToken))).status).toBe(200);
    // Tokens signed with the previous key are still valid (it stays in the JWKS).
    expect((await mcpPost(stack.mcpUrl, INITIALIZE, bearer(oldToken))).status).toBe(200);
  });
});
