/**
 * The CIMD fetcher against a real https server on 127.0.0.1: SSRF attempts are refused before any
 * connection, and the test-only loopback allowance admits exactly its origin and nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedFetch, DocumentFetchError, type ResolveAll } from '../../../src/authorization-server/cimd/index.js';
import { startHttpsFixture, type HttpsFixture } from '../../helpers/https-fixture.js';
import { TLS } from '../../helpers/tls-fixtures.js';

let fixture: HttpsFixture;
beforeAll(async () => {
  fixture = await startHttpsFixture();
  fixture.json('/client.json', { client_id: 'x' }, { 'cache-control': 'max-age=60' });
  fixture.route('/redirect', (_req, res) => res.writeHead(302, { location: '/client.json' }).end());
  fixture.route('/large', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pad: 'x'.repeat(6000) })));
  fixture.route('/large-chunked', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"pad":"');
    for (let i = 0; i < 10; i += 1) res.write('x'.repeat(1000));
    res.end('"}');
  });
  fixture.route('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'));
  fixture.route('/slow', () => undefined);
  fixture.route('/gzip', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('xx'));
});
afterAll(async () => fixture?.close());

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DocumentFetchError);
    return (error as DocumentFetchError).reason;
  }
  return 'fetched';
}

describe('guarded fetch of client ID metadata documents', () => {
  const strict = createGuardedFetch({ timeoutMs: 2000, maxBytes: 5120 });
  afterAll(() => strict.close());

  it('refuses loopback, by IP literal and by name, without sending a request', async () => {
    const before = fixture.requests.length;
    expect(await reason(strict.fetch(`https://127.0.0.1:${fixture.port}/client.json`))).toBe('address_refused');
    expect(await reason(strict.fetch(`${fixture.origin}/client.json`))).toBe('address_refused');
    expect(await reason(strict.fetch(`https://[::1]:${fixture.port}/client.json`))).toBe('address_refused');
    expect(await reason(strict.fetch(`https://[::ffff:127.0.0.1]:${fixture.port}/client.json`))).toBe('address_refused');
    expect(fixture.requests.length).toBe(before);
  });

  it.each([
    ['link-local cloud metadata', ['169.254.169.254']],
    ['a private range', ['10.0.0.5']],
    ['another private range', ['192.168.0.10']],
    ['CGNAT', ['100.64.1.1']],
    ['an IPv6 ULA', ['fd00::1']],
    ['an answer mixing a public and a private address', ['93.184.216.34', '10.0.0.5']],
  ])('refuses a name resolving to %s, before connecting', async (_name, addresses) => {
    const resolved: string[] = [];
    const resolveAll: ResolveAll = async (hostname) => {
      resolved.push(hostname);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    const fetcher = createGuardedFetch({ timeoutMs: 2000, maxBytes: 5120, resolveAll });
    try {
      expect(await reason(fetcher.fetch('https://metadata.attacker.test/client.json'))).toBe('address_refused');
      expect(resolved).toContain('metadata.attacker.test');
    } finally {
      await fetcher.close();
    }
  });

  it('refuses IP literals in special-use ranges without resolving or connecting', async () => {
    const resolveAll: ResolveAll = async () => {
      throw new Error('must not resolve');
    };
    const fetcher = createGuardedFetch({ timeoutMs: 2000, maxBytes: 5120, resolveAll });
    try {
      for (const host of ['169.254.169.254', '10.0.0.1', '[fe80::1]', '0.0.0.0']) {
        expect(await reason(fetcher.fetch(`https://${host}/latest/meta-data`))).toBe('address_refused');
      }
    } finally {
      await fetcher.close();
    }
  });

  it('refuses plain http', async () => {
    expect(await reason(strict.fetch(`http://localhost:${fixture.port}/client.json`))).toBe('address_refused');
  });

  describe('with the test-only loopback allowance for one origin', () => {
    const testing = createGuardedFetch({ timeoutMs: 1000, maxBytes: 5120, insecureTestingLoopback: { origins: [] as string[], ca: TLS.ca } });
    let allowed: ReturnType<typeof createGuardedFetch>;
    beforeAll(() => {
      allowed = createGuardedFetch({ timeoutMs: 1000, maxBytes: 5120, insecureTestingLoopback: { origins: [fixture.origin], ca: TLS.ca } });
    });
    afterAll(async () => Promise.all([allowed.close(), testing.close()]));

    it('fetches the fixture, with its cache headers', async () => {
      const document = await allowed.fetch(`${fixture.origin}/client.json`);
      expect(document.json).toEqual({ client_id: 'x' });
      expect(document.headers.cacheControl).toBe('max-age=60');
    });

    it('does not widen anything else: other origins, other ranges, redirects, size, type, time', async () => {
      expect(await reason(allowed.fetch(`https://127.0.0.1:${fixture.port}/client.json`))).toBe('address_refused');
      expect(await reason(testing.fetch(`${fixture.origin}/client.json`))).toBe('address_refused');
      expect(await reason(allowed.fetch(`${fixture.origin}/redirect`))).toBe('redirect');
      expect(await reason(allowed.fetch(`${fixture.origin}/large`))).toBe('too_large');
      expect(await reason(allowed.fetch(`${fixture.origin}/large-chunked`))).toBe('too_large');
      expect(await reason(allowed.fetch(`${fixture.origin}/html`))).toBe('content_type');
      expect(await reason(allowed.fetch(`${fixture.origin}/gzip`))).toBe('encoding');
      expect(await reason(allowed.fetch(`${fixture.origin}/missing`))).toBe('status');
      expect(await reason(allowed.fetch(`${fixture.origin}/slow`))).toBe('timeout');
    });

    it('still checks the certificate against the testing CA only', async () => {
      const untrusted = createGuardedFetch({ timeoutMs: 1000, maxBytes: 5120, insecureTestingLoopback: { origins: [fixture.origin] } });
      try {
        expect(await reason(untrusted.fetch(`${fixture.origin}/client.json`))).toBe('network');
      } finally {
        await untrusted.close();
      }
    });
  });
});
