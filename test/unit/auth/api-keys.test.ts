import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, createApiKeyVerifier, generateApiKey } from '../../../src/auth/index.js';
import { apiKeyDigest } from '../../../src/config/index.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

describe('API keys', () => {
  it('generates a prefixed token68 key of 32 random bytes and the sha256: hash of exactly that key', () => {
    const { key, hash } = generateApiKey();
    expect(key).toMatch(new RegExp(`^${API_KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(hash).toBe(`sha256:${sha256(key).toString('base64url')}`);
    expect(generateApiKey().key).not.toBe(key);
  });

  it('reads the hash as base64url or hex', () => {
    const digest = sha256('some key');
    expect(apiKeyDigest(`sha256:${digest.toString('base64url')}`)).toEqual(digest);
    expect(apiKeyDigest(`sha256:${digest.toString('hex')}`)).toEqual(digest);
    expect(apiKeyDigest(`sha256:${digest.toString('hex').toUpperCase()}`)).toEqual(digest);
  });

  it('matches any configured key (first, last, hex-configured) and nothing else', () => {
    const keys = ['key-one', 'key-two', 'key-three'];
    const verifier = createApiKeyVerifier([
      { name: 'one', hash: `sha256:${sha256(keys[0]!).toString('base64url')}`, scopes: ['a'] },
      { name: 'two', hash: `sha256:${sha256(keys[1]!).toString('hex')}`, scopes: [], subject: 'svc-two' },
      { name: 'three', hash: `sha256:${sha256(keys[2]!).toString('base64url')}`, scopes: ['b', 'c'] },
    ]);
    expect(verifier.match(sha256('key-one'))).toMatchObject({ clientId: 'one', subject: 'api-key:one' });
    expect(verifier.match(sha256('key-two'))).toMatchObject({ clientId: 'two', subject: 'svc-two' });
    expect(verifier.match(sha256('key-three'))?.scopes).toEqual(new Set(['b', 'c']));
    expect(verifier.match(sha256('key-four'))).toBeUndefined();
  });

  it('builds a principal that goes through policy and audit like a token\'s, without the key', () => {
    const { key, hash } = generateApiKey();
    const principal = createApiKeyVerifier([{ name: 'ci-bot', hash, scopes: ['tickets:read'] }]).match(sha256(key))!;
    expect(principal).toMatchObject({
      issuer: 'api-key',
      subject: 'api-key:ci-bot',
      clientId: 'ci-bot',
      authenticationMethod: 'api_key',
      expiresAt: Number.POSITIVE_INFINITY,
      claims: { iss: 'api-key', sub: 'api-key:ci-bot', client_id: 'ci-bot', scope: 'tickets:read' },
    });
    expect(principal.tokenFingerprint).toBe(hash.slice('sha256:'.length, 'sha256:'.length + 12));
    expect(JSON.stringify(principal)).not.toContain(key);
    expect(Object.isFrozen(principal)).toBe(true);
  });
});
