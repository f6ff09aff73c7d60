import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { describeKeyProblem, loadSigningKey } from '../../../src/keys/index.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('private keys for signing', () => {
  it.each([
    ['PKCS#8 PEM', ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'ES384'],
    ['SEC1 PEM', ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString(), 'ES384'],
    ['PKCS#1 PEM', rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(), 'RS256'],
    ['a private JWK', JSON.stringify(ec.privateKey.export({ format: 'jwk' })), 'ES384'],
    ['Ed25519', generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'EdDSA'],
  ])('loads %s with the algorithm its type implies and an RFC 7638 kid', async (_name, text, algorithm) => {
    const key = loadSigningKey(text);
    expect(key.algorithm).toBe(algorithm);
    expect(key.publicJwk).toMatchObject({ kid: key.kid, alg: algorithm, use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.kid).toBe(await calculateJwkThumbprint(key.publicJwk));
  });

  it('takes a configured kid and an algorithm that fits', () => {
    expect(loadSigningKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { kid: 'k', algorithm: 'PS256' })).toMatchObject({ kid: 'k', algorithm: 'PS256' });
  });

  it.each([
    ['text that is no key', `no-key-${'s3cr3t'.repeat(20)}`, undefined, /not a PEM private key or a private JWK/],
    ['a public JWK', JSON.stringify(ec.publicKey.export({ format: 'jwk' })), undefined, /not a PEM private key/],
    ['a small RSA key', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), undefined, /at least 2048 bits/],
    ['an algorithm that does not fit', ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'RS256' as const, /RS256 does not fit this key \(allowed: ES384\)/],
  ])('refuses %s, without echoing it', (_name, text, algorithm, expected) => {
    const problem = describeKeyProblem(text, algorithm);
    expect(problem).toMatch(expected);
    expect(problem).not.toContain(text.slice(30, 60));
  });
});
