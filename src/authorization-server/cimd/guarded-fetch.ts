import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { isLoopbackAddress, isPublicAddress } from './special-use-addresses.js';

/**
 * Fetching a client ID metadata document without letting a client point the gateway at internal
 * services (CIMD §8.5, SSRF):
 * - https only; redirects are never followed (CIMD §5: MUST NOT);
 * - the gateway resolves the name itself and connects to the address it checked: the check is the
 *   socket's own `lookup`, so there is no window between check and connect (no DNS rebinding);
 *   an answer with any special-use address is refused whole; IP literals are checked before
 *   connecting (the OS never resolves them);
 * - the body is read up to `maxBytes` and the fetch aborted beyond it; one timeout covers connect,
 *   headers and body; compressed bodies are refused (none is asked for), so nothing expands.
 * Environment proxies are not used: the agent connects directly.
 */
export class DocumentFetchError extends Error {
  override readonly name = 'DocumentFetchError';
  /** Why, as a stable code for logs and tests. */
  readonly reason: 'address_refused' | 'redirect' | 'status' | 'too_large' | 'content_type' | 'encoding' | 'timeout' | 'network' | 'not_json';

  constructor(reason: DocumentFetchError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The raw result of a successful fetch: the parsed JSON and the response headers cache rules need. */
export interface FetchedDocument {
  json: unknown;
  headers: { cacheControl: string | undefined; expires: string | undefined; date: string | undefined; age: string | undefined };
}

export type DocumentFetcher = (url: string) => Promise<FetchedDocument>;

/** dns.lookup with `all: true`, injectable so tests can make a name resolve to any address. */
export type ResolveAll = (hostname: string, family: number) => Promise<LookupAddress[]>;

const defaultResolveAll: ResolveAll = (hostname, family) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, family, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

export interface GuardedFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  /**
   * TESTS ONLY: exact https origins that may resolve to loopback (127.0.0.0/8, ::1) and, when
   * `ca` is given, are trusted with that CA instead of the system store. Nothing else changes.
   */
  insecureTestingLoopback?: { origins: readonly string[]; ca?: string | undefined } | undefined;
  resolveAll?: ResolveAll;
}

/** A socket `lookup` that resolves through `resolveAll` and refuses any answer containing an address `allowed` rejects. */
export function createGuardedLookup(allowed: (address: string) => boolean, resolveAll: ResolveAll = defaultResolveAll): LookupFunction {
  return function guardedLookup(hostname, options, callback) {
    const family = typeof options.family === 'number' ? options.family : 0;
    resolveAll(hostname, family).then(
      (addresses) => {
        const refused = addresses.find((entry) => !allowed(entry.address));
        if (addresses.length === 0 || refused) {
          const error = new DocumentFetchError('address_refused', `${hostname} resolves to an address documents are not fetched from`);
          callback(Object.assign(error, { code: 'ECONNREFUSED' }), '', 0);
          return;
        }
        if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** Strips the brackets of an IPv6 literal host. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

/**
 * Builds the document fetcher: one connection pool (two with the test-only allowance, so the
 * testing CA never applies to any other origin).
 */
export function createGuardedFetch(options: GuardedFetchOptions): { fetch: DocumentFetcher; close(): Promise<void> } {
  const resolveAll = options.resolveAll ?? defaultResolveAll;
  const testing = options.insecureTestingLoopback;
  const testingOrigins = new Set(testing?.origins.map((origin) => new URL(origin).origin) ?? []);
  const publicOnly = (address: string) => isPublicAddress(address);
  const publicOrLoopback = (address: string) => isPublicAddress(address) || isLoopbackAddress(address);
  const agentOptions = { connections: 16, keepAliveTimeout: 10_000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
  const agent = new Agent({ ...agentOptions, connect: { timeout: options.timeoutMs, lookup: createGuardedLookup(publicOnly, resolveAll) } });
  const testingAgent = testing
    ? new Agent({
        ...agentOptions,
        connect: {
          timeout: options.timeoutMs,
          lookup: createGuardedLookup(publicOrLoopback, resolveAll),
          ...(testing.ca ? { ca: [...rootCertificates, testing.ca] } : {}),
        },
      })
    : undefined;

  async function fetchDocument(url: string): Promise<FetchedDocument> {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw new DocumentFetchError('address_refused', 'client id metadata documents are fetched over https only');
    const forTesting = testingAgent !== undefined && testingOrigins.has(target.origin);
    const allowed = forTesting ? publicOrLoopback : publicOnly;
    const literal = literalAddress(target.hostname);
    if (literal !== undefined && !allowed(literal)) throw new DocumentFetchError('address_refused', 'the client id names an address documents are not fetched from');
    const dispatcher: Dispatcher = forTesting ? testingAgent! : agent;

    const signal = AbortSignal.timeout(options.timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(target, { dispatcher, method: 'GET', headers: { accept: 'application/json' }, signal });
    } catch (error) {
      throw classifyFailure(error, signal);
    }
    const { statusCode, headers, body } = response;
    try {
      if (statusCode >= 300 && statusCode < 400) throw new DocumentFetchError('redirect', 'the client id metadata document answered with a redirect, which is not followed');
      if (statusCode !== 200) throw new DocumentFetchError('status', `the client id metadata document answered HTTP ${statusCode}`);
      const encoding = header(headers['content-encoding']);
      if (encoding && encoding.toLowerCase() !== 'identity') throw new DocumentFetchError('encoding', 'compressed documents are not accepted');
      const mediaType = header(headers['content-type'])?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
      if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
        throw new DocumentFetchError('content_type', 'the client id metadata document is not served as JSON');
      }
      const declared = Number(header(headers['content-length']));
      if (Number.isFinite(declared) && declared > options.maxBytes) throw new DocumentFetchError('too_large', `the client id metadata document is larger than ${options.maxBytes} bytes`);
      const bytes = await readCapped(body, options.maxBytes);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch (error) {
        throw new DocumentFetchError('not_json', 'the client id metadata document is not valid JSON', { cause: error });
      }
      return {
        json,
        headers: {
          cacheControl: header(headers['cache-control']),
          expires: header(headers.expires),
          date: header(headers.date),
          age: header(headers.age),
        },
      };
    } catch (error) {
      // Stop reading; destroying a body undici still reads emits an abort error nobody waits for.
      body.on('error', () => undefined);
      body.destroy();
      throw error instanceof DocumentFetchError ? error : classifyFailure(error, signal);
    }
  }

  return {
    fetch: fetchDocument,
    async close() {
      await Promise.all([agent.close(), testingAgent?.close()]);
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Reads at most `maxBytes`; stops reading (and fails) as soon as the body goes beyond. */
async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new DocumentFetchError('too_large', `the client id metadata document is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function classifyFailure(error: unknown, signal: AbortSignal): DocumentFetchError {
  if (error instanceof DocumentFetchError) return error;
  // undici wraps the socket's lookup failure; find ours in the cause chain.
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof DocumentFetchError) return cause;
  }
  if (signal.aborted) return new DocumentFetchError('timeout', 'fetching the client id metadata document timed out', { cause: error });
  return new DocumentFetchError('network', 'the client id metadata document could not be fetched', { cause: error });
}
