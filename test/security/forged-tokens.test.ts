/**
 * Forged and malformed access tokens, each sent as a real HTTP request through a
 * real stack (oidc-provider AS, SDK upstream, gateway with the example policy).
 * For every kind: the right status (401 with a Bearer challenge, 400 or 431 where
 * documented), the upstream saw nothing, no token in the log, the audit trail,
 * the response or upstream, and the gateway still serves a valid request afterwards.
 *
 * test/integration/token-validation.test.ts covers the everyday cases (expired,
 * wrong issuer, unknown kid); this file is the attacker's list.
 */
import { createHmac, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign, EncryptJWT, generateKeyPair, importJWK, importPKCS8, exportJWK, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';
import { startAttackerKeyServer, type AttackerKeyServer } from './fixtures/attacker-key-server.js';
import {
  auditRecordsFor,
  expectChallenge,
  expectNoSecretIn,
  expectNoSecretInOutputs,
  expectStillServes,
  fingerprintOf,
  statelessHeaders,
} from './support.js';

const policies = copyPolicies();
/** Above the token limit (16 KiB) so a token can be just under it; the 431 case goes beyond this. */
const MAX_HEADER_BYTES = 40 * 1024;
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-service';

let stack: Stack;
let otherAs: DemoAuthorizationServer;
let keyServer: AttackerKeyServer;
let validToken: string;
/** The AS's public signing key as its JWKS serves it. */
let realJwk: JWK;
let attacker: { es256: CryptoKeyPair; rs256: CryptoKeyPair; es384: CryptoKeyPair; es256Jwk: JWK };
let x5c: { key: CryptoKey; certificateDer: string };

type CryptoKeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

beforeAll(async () => {
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({ ...config, limits: { maxHeaderBytes: MAX_HEADER_BYTES } }),
  });
  // A second, real authorization server the gateway does not trust, minting for our resource.
  otherAs = await startDemoAuthorizationServer({ resources: [{ resource: stack.mcpUrl, scopes: ['tickets:read', 'admin'] }] });
  validToken = await stack.obtainToken('tickets:read');
  const jwks = (await (await fetch(stack.as.jwksUri)).json()) as { keys: JWK[] };
  realJwk = jwks.keys.find((key) => key.kid === stack.as.currentSigningKey().kid)!;
  const es256 = await generateKeyPair('ES256', { extractable: true });
  attacker = {
    es256,
    rs256: await generateKeyPair('RS256'),
    es384: await generateKeyPair('ES384'),
    es256Jwk: { ...(await exportJWK(es256.publicKey)), kid: 'attacker-key', alg: 'ES256', use: 'sig' },
  };
  const tls = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');
  x5c = { key: await importPKCS8(tls('client.key'), 'ES256'), certificateDer: new X509Certificate(tls('client.crt')).raw.toString('base64') };
  keyServer = await startAttackerKeyServer(attacker.es256Jwk, tls('client.crt'));
});
afterAll(async () => {
  await stack?.close();
  await otherAs?.close();
  await keyServer?.close();
  policies.remove();
});

// ---------------------------------------------------------------------------------------------
// Token construction

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** The claims a good token for this gateway has. */
function goodClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: stack.as.issuer, aud: stack.mcpUrl, sub: 'demo-user', client_id: 'crafted-client', scope: 'tickets:read', iat: now(), exp: now() + 300, jti: Math.random().toString(36).slice(2), ...extra };
}

function realHeader(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const signing = stack.as.currentSigningKey();
  return { alg: signing.alg, kid: signing.kid, typ: 'at+jwt', ...extra };
}

/**
 * A JWS over exactly these payload bytes (a JSON text of any shape, duplicate
 * members, invalid UTF-8…), signed with the AS's real key unless another is given.
 */
async function signRaw(payload: string | Uint8Array, header: Record<string, unknown> = realHeader(), key: CryptoKey | Uint8Array = stack.as.currentSigningKey().key, crit: Record<string, boolean> = {}): Promise<string> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return new CompactSign(bytes).setProtectedHeader(header as never).sign(key, { crit });
}

/** A JWS whose protected header is exactly this text (not necessarily JSON), signed with the real key. */
async function signWithHeaderText(headerText: string, claims: Record<string, unknown>): Promise<string> {
  const input = `${b64(headerText)}.${b64(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, stack.as.currentSigningKey().key, new TextEncoder().encode(input));
  return `${input}.${b64(new Uint8Array(signature))}`;
}

/** HMAC-signed token: the classic algorithm-confusion forgery (public key material as the secret). */
function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Uint8Array, claims = goodClaims()): string {
  const input = `${b64(JSON.stringify({ alg, kid: stack.as.currentSigningKey().kid, typ: 'at+jwt' }))}.${b64(JSON.stringify(claims))}`;
  const signature = createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
  return `${input}.${signature}`;
}

function unsigned(alg: string, claims = goodClaims(), signature = ''): string {
  return `${b64(JSON.stringify({ alg, typ: 'at+jwt' }))}.${b64(JSON.stringify(claims))}.${signature}`;
}

function realPem(): string {
  return createPublicKey({ key: realJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

function realPoint(): { xy: Buffer; uncompressed: Buffer } {
  const x = Buffer.from(realJwk.x!, 'base64url');
  const y = Buffer.from(realJwk.y!, 'base64url');
  return { xy: Buffer.concat([x, y]), uncompressed: Buffer.concat([Buffer.from([4]), x, y]) };
}

const segments = (token: string) => token.split('.');
function replaceSegment(token: string, index: number, value: string): string {
  const parts = segments(token);
  parts[index] = value;
  return parts.join('.');
}
function flipBit(segment: string, at: number): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[at % bytes.length]! ^= 0x01;
  return bytes.toString('base64url');
}

/**
 * A signed token padded with a filler claim to within 4 characters below
 * (`side: 'under'`) or above (`'over'`) `limit` (base64url cannot hit every length).
 */
async function tokenNear(limit: number, side: 'under' | 'over', sign: (claims: Record<string, unknown>) => Promise<string>): Promise<string> {
  // A fixed jti: the random one varies in length, and the length is what this is about.
  const probe = await sign(goodClaims({ jti: 'fixed-length-jti', pad: '' }));
  // base64url: 4 characters per 3 bytes of filler.
  const padBytes = Math.floor(((limit - probe.length) * 3) / 4) + (side === 'under' ? -2 : 2);
  const token = await sign(goodClaims({ jti: 'fixed-length-jti', pad: 'p'.repeat(padBytes) }));
  const ok = side === 'under' ? token.length < limit && token.length >= limit - 4 : token.length > limit && token.length <= limit + 4;
  if (!ok) throw new Error(`token of ${token.length} characters is not just ${side} ${limit}`);
  return token;
}

// ---------------------------------------------------------------------------------------------
// The cases

interface TokenCase {
  /** What the attacker tries. */
  name: string;
  token: () => Promise<string> | string;
  /** How the token travels (default: `Authorization: Bearer <token>`). */
  send?: (token: string) => Delivery;
  /** Default 401. */
  status?: number;
  /** The challenge's error (default invalid_token; undefined for "no token"). */
  error?: string | undefined;
  /** The audit record's outcome.reason, when the request is audited. */
  reason: string | undefined;
}

type Delivery = { url?: string; headers?: Record<string, string>; body?: unknown };
const viaBearer = (token: string): Delivery => ({ headers: bearer(token) });

const ALGORITHM_CASES: TokenCase[] = [
  { name: 'alg none', token: () => unsigned('none'), reason: 'algorithm_not_allowed' },
  { name: 'alg None', token: () => unsigned('None'), reason: 'algorithm_not_allowed' },
  { name: 'alg NONE', token: () => unsigned('NONE'), reason: 'algorithm_not_allowed' },
  { name: 'alg none carrying a real signature', token: () => unsigned('none', goodClaims(), segments(validToken)[2]), reason: 'algorithm_not_allowed' },
  { name: 'HS256 keyed with the AS public key as PEM', token: () => hmacToken('HS256', realPem()), reason: 'algorithm_not_allowed' },
  { name: 'HS384 keyed with the AS public key as PEM', token: () => hmacToken('HS384', realPem()), reason: 'algorithm_not_allowed' },
  { name: 'HS512 keyed with the AS public key as PEM', token: () => hmacToken('HS512', realPem()), reason: 'algorithm_not_allowed' },
  { name: 'HS256 keyed with the AS public JWK as JSON', token: () => hmacToken('HS256', JSON.stringify(realJwk)), reason: 'algorithm_not_allowed' },
  { name: 'HS256 keyed with the raw x‖y of the AS key', token: () => hmacToken('HS256', realPoint().xy), reason: 'algorithm_not_allowed' },
  { name: 'HS256 keyed with the uncompressed EC point of the AS key', token: () => hmacToken('HS256', realPoint().uncompressed), reason: 'algorithm_not_allowed' },
  {
    name: 'RS256 (attacker RSA key) under the kid of the AS EC key: key-type confusion',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader({ alg: 'RS256' }), attacker.rs256.privateKey),
    reason: 'unknown_key',
  },
  {
    name: 'ES384 (attacker P-384 key) under the kid of the AS P-256 key',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader({ alg: 'ES384' }), attacker.es384.privateKey),
    reason: 'unknown_key',
  },
];

const HEADER_CASES: TokenCase[] = [
  {
    name: 'crit naming an unknown extension (real signature)',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader({ crit: ['x-evil'], 'x-evil': true }), undefined, { 'x-evil': true }),
    reason: 'algorithm_not_allowed',
  },
  {
    name: 'crit that is not a list (real signature)',
    token: () => signWithHeaderText(JSON.stringify(realHeader({ crit: 'exp' })), goodClaims()),
    reason: 'malformed',
  },
  {
    name: 'RFC 7797 unencoded payload (b64: false, crit b64) with a real signature',
    token: async () => {
      const header = b64(JSON.stringify(realHeader({ b64: false, crit: ['b64'] })));
      const payload = b64(JSON.stringify(goodClaims()));
      const input = `${header}.${payload}`;
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, stack.as.currentSigningKey().key, new TextEncoder().encode(input));
      return `${input}.${b64(new Uint8Array(signature))}`;
    },
    reason: 'malformed',
  },
  {
    name: 'jku pointing at an attacker JWKS on 127.0.0.1 (attacker kid)',
    token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', kid: 'attacker-key', jku: keyServer.jwksUrl }, attacker.es256.privateKey),
    reason: 'unknown_key',
  },
  {
    name: 'jku pointing at an attacker JWKS, under the real kid',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader({ jku: keyServer.jwksUrl }), attacker.es256.privateKey),
    reason: 'bad_signature',
  },
  {
    name: 'x5u pointing at an attacker certificate on 127.0.0.1',
    token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', x5u: keyServer.x5uUrl }, x5c.key),
    reason: 'bad_signature',
  },
  {
    name: 'embedded jwk with the attacker public key (no kid)',
    token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: attacker.es256Jwk.x, y: attacker.es256Jwk.y } }, attacker.es256.privateKey),
    reason: 'bad_signature',
  },
  {
    name: 'embedded jwk with the attacker public key, under the real kid',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader({ jwk: { kty: 'EC', crv: 'P-256', x: attacker.es256Jwk.x, y: attacker.es256Jwk.y } }), attacker.es256.privateKey),
    reason: 'bad_signature',
  },
  {
    name: 'x5c with a certificate chain the attacker holds the key of',
    token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', x5c: [x5c.certificateDer] }, x5c.key),
    reason: 'bad_signature',
  },
];

const KID_CASES: TokenCase[] = [
  { name: 'kid ../../etc/passwd', token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', kid: '../../../../etc/passwd' }, attacker.es256.privateKey), reason: 'unknown_key' },
  { name: 'kid with SQL', token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', kid: "x' UNION SELECT 'secret' --" }, attacker.es256.privateKey), reason: 'unknown_key' },
  { name: 'kid of 8 KiB', token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', kid: 'k'.repeat(8192) }, attacker.es256.privateKey), reason: 'unknown_key' },
  { name: 'kid that is a number', token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256', kid: 1 }, attacker.es256.privateKey), reason: 'unknown_key' },
  { name: 'the real kid with another key’s signature', token: () => signRaw(JSON.stringify(goodClaims()), realHeader(), attacker.es256.privateKey), reason: 'bad_signature' },
  { name: 'no kid, attacker key', token: () => signRaw(JSON.stringify(goodClaims()), { alg: 'ES256' }, attacker.es256.privateKey), reason: 'bad_signature' },
];

const SIGNATURE_CASES: TokenCase[] = [
  { name: 'empty signature', token: () => replaceSegment(validToken, 2, ''), reason: 'bad_signature' },
  { name: 'signature stripped (two parts)', token: () => segments(validToken).slice(0, 2).join('.'), reason: 'malformed' },
  { name: 'signature truncated to half', token: () => replaceSegment(validToken, 2, segments(validToken)[2]!.slice(0, 43)), reason: 'bad_signature' },
  { name: 'signature with one bit flipped', token: () => replaceSegment(validToken, 2, flipBit(segments(validToken)[2]!, 7)), reason: 'bad_signature' },
  {
    name: 'payload widened to admin after signing (real signature kept)',
    token: () => {
      const claims = JSON.parse(Buffer.from(segments(validToken)[1]!, 'base64url').toString()) as Record<string, unknown>;
      return replaceSegment(validToken, 1, b64(JSON.stringify({ ...claims, scope: 'tickets:read tickets:write admin' })));
    },
    reason: 'bad_signature',
  },
  {
    name: 'header and payload of one token, signature of another',
    token: async () => replaceSegment(await craftToken(stack.as, stack.mcpUrl), 2, segments(validToken)[2]!),
    reason: 'bad_signature',
  },
  { name: 'four parts', token: () => `${validToken}.${segments(validToken)[2]}`, reason: 'malformed' },
  {
    name: 'five parts: a real JWE encrypted to the AS public key',
    token: async () => {
      const publicKey = await importJWK({ kty: 'EC', crv: realJwk.crv, x: realJwk.x, y: realJwk.y }, 'ECDH-ES+A256KW');
      return new EncryptJWT(goodClaims()).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: realJwk.kid }).encrypt(publicKey);
    },
    reason: 'malformed',
  },
];

const SIZE_CASES: TokenCase[] = [
  { name: 'a token larger than the header limit', token: () => 'a'.repeat(MAX_HEADER_BYTES + 1024), status: 431, reason: undefined },
  {
    name: 'a forged token just under the token limit (16 KiB)',
    token: () => tokenNear(16 * 1024, 'under', (claims) => signRaw(JSON.stringify(claims), realHeader(), attacker.es256.privateKey)),
    reason: 'bad_signature',
  },
  {
    name: 'a genuinely signed token just over the token limit',
    token: () => tokenNear(16 * 1024, 'over', (claims) => signRaw(JSON.stringify(claims))),
    reason: 'malformed',
  },
];

const ENCODING_CASES: TokenCase[] = [
  { name: 'header that is not JSON (real signature)', token: () => signWithHeaderText('{alg: ES256', goodClaims()), reason: 'malformed' },
  { name: 'payload that is not JSON (real signature)', token: () => signRaw('iss=me&aud=you'), reason: 'malformed' },
  { name: 'payload that is a JSON array (real signature)', token: () => signRaw(JSON.stringify([goodClaims()])), reason: 'malformed' },
  { name: 'payload that is a JSON string (real signature)', token: () => signRaw(JSON.stringify(JSON.stringify(goodClaims()))), reason: 'malformed' },
  {
    name: 'payload with invalid UTF-8 (real signature)',
    token: () => signRaw(Buffer.concat([Buffer.from(JSON.stringify(goodClaims()).slice(0, -1)), Buffer.from(',"x":"\xff\xfe"}', 'latin1')])),
    reason: 'malformed',
  },
  {
    name: 'payload re-encoded in the base64 alphabet (+ and /)',
    token: async () => {
      // A claim chosen so the base64url payload holds both - and _.
      const token = await signRaw(JSON.stringify(goodClaims({ note: '>>>???~~~' })));
      const [header, payload, signature] = segments(token);
      expect(payload).toMatch(/[-_]/);
      return `${header}.${payload!.replace(/-/g, '+').replace(/_/g, '/')}.${signature}`;
    },
    reason: 'malformed',
  },
  { name: 'padding inside the token (header==.payload.signature)', token: () => replaceSegment(validToken, 0, `${segments(validToken)[0]}==`), reason: 'malformed' },
];

const CLAIM_CASES: TokenCase[] = [
  { name: 'aud: another resource (real signature)', token: () => signRaw(JSON.stringify(goodClaims({ aud: OTHER_RESOURCE }))), reason: 'wrong_audience' },
  { name: 'aud: a list without this resource', token: () => signRaw(JSON.stringify(goodClaims({ aud: [OTHER_RESOURCE, 'https://evil.example/mcp'] }))), reason: 'wrong_audience' },
  { name: 'aud: an empty list', token: () => signRaw(JSON.stringify(goodClaims({ aud: [] }))), reason: 'wrong_audience' },
  { name: 'aud: an object holding this resource', token: () => signRaw(JSON.stringify(goodClaims({ aud: { 0: stack.mcpUrl } }))), reason: 'wrong_audience' },
  { name: 'aud: a nested list holding this resource', token: () => signRaw(JSON.stringify(goodClaims({ aud: [[stack.mcpUrl]] }))), reason: 'wrong_audience' },
  { name: 'aud: a number', token: () => signRaw(JSON.stringify(goodClaims({ aud: 8080 }))), reason: 'wrong_audience' },
  { name: 'aud: this resource with a path suffix', token: () => signRaw(JSON.stringify(goodClaims({ aud: `${stack.mcpUrl}/../admin` }))), reason: 'wrong_audience' },
  {
    name: 'duplicate aud: this resource first, another last (last wins: refused)',
    token: () => signRaw(JSON.stringify(goodClaims({ aud: stack.mcpUrl })).replace(/}$/, `,"aud":${JSON.stringify(OTHER_RESOURCE)}}`)),
    reason: 'wrong_audience',
  },
  {
    name: 'duplicate iss: the real issuer first, another last (last wins: refused)',
    token: () => signRaw(JSON.stringify(goodClaims()).replace(/}$/, ',"iss":"https://evil.example"}')),
    reason: 'wrong_issuer',
  },
  { name: 'iss with a trailing slash', token: () => signRaw(JSON.stringify(goodClaims({ iss: `${stack.as.issuer}/` }))), reason: 'wrong_issuer' },
  { name: 'iss in another case', token: () => signRaw(JSON.stringify(goodClaims({ iss: stack.as.issuer.toUpperCase() }))), reason: 'wrong_issuer' },
  { name: 'iss as a list', token: () => signRaw(JSON.stringify(goodClaims({ iss: [stack.as.issuer] }))), reason: 'wrong_issuer' },
  { name: 'iss missing', token: () => signRaw(JSON.stringify(goodClaims({ iss: undefined }))), reason: 'wrong_issuer' },
  { name: 'exp missing', token: () => signRaw(JSON.stringify(goodClaims({ exp: undefined }))), reason: 'missing_claim' },
  { name: 'exp as a string', token: () => signRaw(JSON.stringify(goodClaims({ exp: String(now() + 300) }))), reason: 'malformed' },
  { name: 'exp null', token: () => signRaw(JSON.stringify(goodClaims({ exp: null }))), reason: 'malformed' },
  { name: 'exp negative', token: () => signRaw(JSON.stringify(goodClaims({ exp: -1 }))), reason: 'expired' },
  { name: 'exp just outside the 30 s leeway', token: () => signRaw(JSON.stringify(goodClaims({ exp: now() - 32 }))), reason: 'expired' },
  { name: 'nbf in the future', token: () => signRaw(JSON.stringify(goodClaims({ nbf: now() + 3600 }))), reason: 'not_yet_valid' },
  { name: 'nbf as a string', token: () => signRaw(JSON.stringify(goodClaims({ nbf: '0' }))), reason: 'malformed' },
  { name: 'iat as a string', token: () => signRaw(JSON.stringify(goodClaims({ iat: 'now' }))), reason: 'malformed' },
  { name: 'sub a number', token: () => signRaw(JSON.stringify(goodClaims({ sub: 12345 }))), reason: 'malformed' },
  { name: 'sub an object', token: () => signRaw(JSON.stringify(goodClaims({ sub: { id: 'demo-user' } }))), reason: 'malformed' },
];

const ISSUER_CASES: TokenCase[] = [
  { name: 'a real token the trusted AS issued for another resource', token: () => stack.obtainToken('tickets:read', OTHER_RESOURCE), reason: 'wrong_audience' },
  { name: 'a real token from an untrusted second AS, for this resource', token: async () => (await otherAs.obtainUserToken({ resource: stack.mcpUrl, scope: 'tickets:read admin' })).accessToken, reason: 'wrong_issuer' },
  {
    name: 'signed by the untrusted AS with the trusted iss and its own kid',
    token: () => signRaw(JSON.stringify(goodClaims()), { alg: otherAs.currentSigningKey().alg, kid: otherAs.currentSigningKey().kid }, otherAs.currentSigningKey().key),
    reason: 'unknown_key',
  },
  {
    name: 'signed by the untrusted AS with the trusted iss and the trusted kid',
    token: () => signRaw(JSON.stringify(goodClaims()), realHeader(), otherAs.currentSigningKey().key),
    reason: 'bad_signature',
  },
];

/** A valid token anywhere but the Authorization header: it must count as no token at all. */
const TRANSPORT_CASES: TokenCase[] = [
  { name: 'valid token in the query string only', token: () => validToken, send: (token) => ({ url: `${stack.mcpUrl}?access_token=${token}` }), error: undefined, reason: 'missing_token' },
  { name: 'valid token percent-encoded in the query string only', token: () => validToken, send: (token) => ({ url: `${stack.mcpUrl}?access%5Ftoken=${token}` }), error: undefined, reason: 'missing_token' },
  { name: 'valid token in a cookie', token: () => validToken, send: (token) => ({ headers: { cookie: `access_token=${token}; token=${token}` } }), error: undefined, reason: 'missing_token' },
  { name: 'valid token in X-Access-Token', token: () => validToken, send: (token) => ({ headers: { 'x-access-token': token, 'x-auth-token': token } }), error: undefined, reason: 'missing_token' },
  { name: 'valid token in Proxy-Authorization', token: () => validToken, send: (token) => ({ headers: { 'proxy-authorization': `Bearer ${token}` } }), error: undefined, reason: 'missing_token' },
  {
    name: 'valid token in the JSON-RPC body (_meta and params)',
    token: () => validToken,
    send: (token) => ({ body: { ...INITIALIZE, params: { ...INITIALIZE.params, access_token: token, _meta: { authorization: `Bearer ${token}` } } } }),
    error: undefined,
    reason: 'missing_token',
  },
  {
    name: 'valid token in a form-encoded body (RFC 6750 §2.2)',
    token: () => validToken,
    send: (token) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}` }),
    error: undefined,
    reason: 'missing_token',
  },
  { name: 'valid token under the Basic scheme', token: () => validToken, send: (token) => ({ headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` } }), error: undefined, reason: 'missing_token' },
  { name: 'valid token under the DPoP scheme', token: () => validToken, send: (token) => ({ headers: { authorization: `DPoP ${token}` } }), error: undefined, reason: 'missing_token' },
  {
    name: 'valid token in the header and percent-encoded in the query string too',
    token: () => validToken,
    send: (token) => ({ url: `${stack.mcpUrl}?access%5Ftoken=${token}`, headers: bearer(token) }),
    status: 400,
    error: 'invalid_request',
    reason: 'token_in_query',
  },
];

const TABLE: Array<[string, TokenCase[]]> = [
  ['algorithm confusion', ALGORITHM_CASES],
  ['header injection', HEADER_CASES],
  ['kid tricks', KID_CASES],
  ['signature tampering', SIGNATURE_CASES],
  ['size', SIZE_CASES],
  ['encoding', ENCODING_CASES],
  ['claims', CLAIM_CASES],
  ['issuers and resources', ISSUER_CASES],
  ['token transport', TRANSPORT_CASES],
];

async function sendCase(tokenCase: TokenCase, token: string): Promise<Response> {
  const { url = stack.mcpUrl, headers = {}, body = INITIALIZE } = (tokenCase.send ?? viaBearer)(token);
  return mcpPost(url, body, headers);
}

describe.each(TABLE)('forged and malformed tokens: %s', (_group, cases) => {
  it.each(cases.map((tokenCase) => [tokenCase.name, tokenCase] as const))('%s → refused', async (_name, tokenCase) => {
    const token = await tokenCase.token();
    const upstreamBefore = stack.upstream.seen.length;
    const auditBefore = stack.auditRecords().length;
    const response = await sendCase(tokenCase, token);
    const text = await response.text();
    const status = tokenCase.status ?? 401;

    expect(response.status, text).toBe(status);
    expect(stack.upstream.seen.length, 'nothing reaches the upstream').toBe(upstreamBefore);
    expectNoSecretIn({ 'the response body': text, 'the response headers': JSON.stringify([...response.headers]) }, [token]);
    if (status === 431) {
      // Refused by node's HTTP parser before any gateway code: nothing to audit, nothing logged.
      expect(stack.auditRecords().length).toBe(auditBefore);
    } else {
      expectChallenge(stack, response, 'error' in tokenCase ? tokenCase.error : 'invalid_token');
      expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code: status === 401 ? -32001 : -32600 } });
      const records = auditRecordsFor(stack, response);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ event: 'authentication.failure', outcome: { status, result: 'rejected', reason: tokenCase.reason } });
      expect(records[0]!.who).toBeUndefined();
      // A refused token may be correlated by its fingerprint, and by nothing else.
      const fingerprint = records[0]!.presentedToken?.fingerprint;
      if (fingerprint !== undefined) expect(fingerprint).toBe(fingerprintOf(token));
    }
    expectNoSecretInOutputs(stack, [token]);
    await expectStillServes(stack, validToken);
  });
});

describe('attacker key servers', () => {
  it('were never fetched: jku and x5u are ignored, keys come only from the issuer JWKS', () => {
    expect(keyServer.hits).toEqual([]);
  });

  it('the table holds at least 25 distinct kinds of forged or malformed tokens', () => {
    const kinds = TABLE.flatMap(([, cases]) => cases).filter((tokenCase) => !TRANSPORT_CASES.includes(tokenCase));
    expect(new Set(kinds.map((tokenCase) => tokenCase.name)).size).toBeGreaterThanOrEqual(25);
  });
});

/**
 * Tokens genuinely signed by the trusted AS whose shape is unusual. They are the
 * AS's word, so some are accepted; what matters is that the gateway reads them one
 * way only (the one it decides with) and never grants more than they say.
 */
describe('unusual tokens signed by the trusted AS: one reading, never more than they grant', () => {
  const createTicket = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'create_ticket', arguments: { title: 'from the security suite', body: 'x' } } });
  const listTickets = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list_tickets', arguments: {} } });

  async function call(token: string, body: { id: number; params: { name: string } }): Promise<{ response: Response; text: string }> {
    const response = await mcpPost(stack.mcpUrl, body, { ...bearer(token), ...statelessHeaders('tools/call', body.params.name) });
    return { response, text: await response.text() };
  }

  it.each([
    ['aud: a list holding this resource among others', () => goodClaims({ aud: [OTHER_RESOURCE, stack.mcpUrl] })],
    ['aud: this resource with an upper-case scheme and host (canonical comparison)', () => goodClaims({ aud: stack.mcpUrl.replace('http://127.0.0.1', 'HTTP://127.0.0.1') })],
    ['iat far in the future (not checked without a maximum age; exp and nbf are)', () => goodClaims({ iat: now() + 10 * 365 * 86400 })],
    ['exp in the year 9999', () => goodClaims({ exp: 253402300799 })],
  ])('%s → accepted for what it grants', async (_name, claims) => {
    const token = await signRaw(JSON.stringify(claims()));
    const { response, text } = await call(token, listTickets(1));
    expect(response.status, text).toBe(200);
    expect(auditRecordsFor(stack, response)[0]).toMatchObject({ who: { subject: 'demo-user', scopes: ['tickets:read'] }, decision: { effect: 'allow' } });
    expectNoSecretInOutputs(stack, [token]);
  });

  it('exp of 1e400 (Infinity once parsed) is read as a number, without a crash', async () => {
    const token = await signRaw(JSON.stringify(goodClaims()).replace(/"exp":\d+/, '"exp":1e400'));
    const { response, text } = await call(token, listTickets(2));
    expect([200, 401], text).toContain(response.status);
    expectNoSecretInOutputs(stack, [token]);
    await expectStillServes(stack, validToken);
  });

  it('duplicate members: the lexically last one decides, everywhere (RFC 7519 §4), both orders', async () => {
    const base = JSON.stringify(goodClaims({ aud: OTHER_RESOURCE }));
    const audLast = await signRaw(base.replace(/}$/, `,"aud":${JSON.stringify(stack.mcpUrl)}}`));
    expect((await call(audLast, listTickets(3))).response.status).toBe(200);
    const issFirstEvil = await signRaw(JSON.stringify({ iss: 'https://evil.example', ...goodClaims() }));
    expect((await call(issFirstEvil, listTickets(4))).response.status).toBe(200);
    // The scope the policy sees is the last one too: never the union, never the first.
    const scopeLastRead = await signRaw(JSON.stringify(goodClaims({ scope: 'tickets:write' })).replace(/}$/, ',"scope":"tickets:read"}'));
    const denied = await call(scopeLastRead, createTicket(5));
    expect(denied.response.status).toBe(403);
    expect(auditRecordsFor(stack, denied.response)[0]).toMatchObject({ who: { scopes: ['tickets:read'] }, decision: { effect: 'deny', reason: 'insufficient_scope' } });
    const scopeLastWrite = await signRaw(JSON.stringify(goodClaims({ scope: 'tickets:read' })).replace(/}$/, ',"scope":"tickets:read tickets:write"}'));
    expect((await call(scopeLastWrite, createTicket(6))).response.status).toBe(200);
  });

  it('the signature re-padded with "=" (token68 allows it at the end): the same token, read the same, or refused', async () => {
    const token = await signRaw(JSON.stringify(goodClaims()));
    const padded = `${token}==`;
    expect(Buffer.from(segments(padded)[2]!, 'base64').length).toBe(64);
    const { response, text } = await call(padded, listTickets(11));
    // jose accepts the padding today (same signature bytes): then only as what the signature
    // covers, the same subject and scopes. A different string for the same token is harmless here:
    // nothing keys on the token text but the verified-token cache and the fingerprint.
    expect([200, 401], text).toContain(response.status);
    if (response.status === 200) expect(auditRecordsFor(stack, response)[0]).toMatchObject({ who: { subject: 'demo-user', scopes: ['tickets:read'] }, decision: { effect: 'allow' } });
    expectNoSecretInOutputs(stack, [token, padded]);
  });

  it.each([
    ['a no-break space', 'tickets:read\u00a0tickets:write'],
    ['a tab', 'tickets:read\ttickets:write'],
    ['a zero-width space', 'tickets:read tickets:write\u200b'],
    ['fullwidth letters', 'tickets:read ｔｉｃｋｅｔｓ:write'],
    ['a Cyrillic е', 'tickets:read tickеts:write'],
    ['a trailing NUL', 'tickets:read tickets:write\u0000'],
    ['a different case', 'tickets:read TICKETS:WRITE'],
    ['a comma', 'tickets:read,tickets:write'],
    ['a list inside the string', '["tickets:read","tickets:write"]'],
  ])('scope with %s grants nothing it does not spell exactly → 403', async (_name, scope) => {
    const token = await signRaw(JSON.stringify(goodClaims({ scope })));
    const upstreamBefore = stack.upstream.seen.length;
    const { response, text } = await call(token, createTicket(7));
    expect(response.status, text).toBe(403);
    expect(stack.upstream.seen.length).toBe(upstreamBefore);
    expectNoSecretInOutputs(stack, [token]);
  });

  it('scope as a JSON list grants exactly its entries (read yes, write no)', async () => {
    const token = await signRaw(JSON.stringify(goodClaims({ scope: ['tickets:read', 7, { admin: true }] })));
    expect((await call(token, listTickets(8))).response.status).toBe(200);
    expect((await call(token, createTicket(9))).response.status).toBe(403);
  });

  it('the control: the same claims spelled exactly are allowed', async () => {
    const token = await signRaw(JSON.stringify(goodClaims({ scope: 'tickets:read tickets:write' })));
    expect((await call(token, createTicket(10))).response.status).toBe(200);
  });
});
