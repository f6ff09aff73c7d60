import { describe, expect, it } from 'vitest';
import { IssuerKeys } from '../../../src/auth/index.js';
import { GatewayError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/index.js';

describe('IssuerKeys', () => {
  it('names a JWKS that was never loaded keys_unavailable, not unknown_key (the reason operators alert on)', async () => {
    let attempts = 0;
    const keys = new IssuerKeys({
      issuer: 'https://as.example.com',
      jwksUri: 'https://as.example.com/jwks',
      timeoutMs: 100,
      cooldownMs: 30_000,
      refreshIntervalMs: 600_000,
      logger: silentLogger,
      fetch: async () => {
        attempts += 1;
        throw new TypeError('fetch failed');
      },
    });
    keys.start();
    try {
      while (attempts === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const failure = await Promise.resolve(keys.getKey({ alg: 'ES256', kid: 'k1' }, { payload: '', signature: '' } as never)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(GatewayError);
      expect((failure as GatewayError).tokenRejection).toBe('keys_unavailable');
    } finally {
      keys.stop();
    }
  });
});
