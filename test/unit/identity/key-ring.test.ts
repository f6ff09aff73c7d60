import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyRing } from '../../../src/identity/index.js';
import { loadSigningKey } from '../../../src/keys/index.js';

const key = (kid: string) =>
  loadSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { kid });

const T0 = Date.parse('2026-08-01T00:00:00Z');
const MINUTE = 60_000;

function ringAt(entries: Array<[string, number]>, overlapMs = 10 * MINUTE) {
  let now = T0;
  const ring = createKeyRing(entries.map(([kid, activeFromMs]) => ({ key: key(kid), activeFromMs })), { retiredPublishMs: overlapMs, now: () => now });
  return {
    ring,
    at(ms: number) {
      now = ms;
      return { signer: ring.signingKey().kid, published: (JSON.parse(ring.jwks().body) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid), maxAge: ring.jwks().maxAgeSeconds };
    },
  };
}

describe('identity key ring', () => {
  it('publishes the next key before it signs, switches at activeFrom, and keeps the old one for the overlap', () => {
    const { at } = ringAt([['old', Number.NEGATIVE_INFINITY], ['new', T0 + 30 * MINUTE]]);
    expect(at(T0)).toEqual({ signer: 'old', published: ['old', 'new'], maxAge: 300 });
    expect(at(T0 + 29 * MINUTE).maxAge).toBe(60);
    expect(at(T0 + 30 * MINUTE)).toMatchObject({ signer: 'new', published: ['old', 'new'] });
    expect(at(T0 + 39 * MINUTE)).toMatchObject({ signer: 'new', published: ['old', 'new'], maxAge: 60 });
    expect(at(T0 + 40 * MINUTE)).toMatchObject({ signer: 'new', published: ['new'], maxAge: 300 });
  });

  it('orders keys by activeFrom, not by their position in the list', () => {
    const { at } = ringAt([['third', T0 + 2 * MINUTE], ['first', Number.NEGATIVE_INFINITY], ['second', T0 + MINUTE]], MINUTE);
    expect(at(T0).signer).toBe('first');
    expect(at(T0 + MINUTE).signer).toBe('second');
    expect(at(T0 + 2 * MINUTE)).toMatchObject({ signer: 'third', published: ['second', 'third'] });
    expect(at(T0 + 3 * MINUTE).published).toEqual(['third']);
  });

  it('has no signing key while every key is in the future', () => {
    const { ring } = ringAt([['later', T0 + MINUTE]]);
    expect(() => ring.signingKey()).toThrow(/no identity JWT key is active yet/);
    expect(JSON.parse(ring.jwks().body)).toMatchObject({ keys: [{ kid: 'later' }] });
  });

  it('never publishes private key material', () => {
    const { ring } = ringAt([['only', Number.NEGATIVE_INFINITY]]);
    expect(ring.jwks().body).not.toContain('"d"');
  });
});
