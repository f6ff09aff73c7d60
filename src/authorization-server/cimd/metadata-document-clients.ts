import { LRUCache } from 'lru-cache';
import type { Logger } from '../../log/index.js';
import { parseClientMetadata, type OAuthClient } from '../client-metadata.js';
import { OAuthError } from '../oauth-error.js';
import { parseCacheLifetimeSeconds } from './cache-lifetime.js';
import { describeClientIdUrlProblem } from './client-id-url.js';
import { DocumentFetchError, type DocumentFetcher } from './guarded-fetch.js';
import type { HostPolicy } from './host-policy.js';

export interface MetadataDocumentClientsOptions {
  fetch: DocumentFetcher;
  hostPolicy: HostPolicy;
  cacheMaxSeconds: number;
  cacheMaxEntries: number;
  logger: Logger;
  now?: () => number;
}

export interface MetadataDocumentClients {
  /**
   * The client named by a Client Identifier URL: from the cache, else fetched and validated.
   * @throws OAuthError invalid_client (bad URL, host refused, fetch failed, invalid document) —
   *   the description says which in client-safe words; the log has the detail.
   */
  resolve(clientId: string): Promise<OAuthClient>;
}

/**
 * Clients identified by their client ID metadata document (CIMD). What is cached: valid
 * documents only, as the OAuthClient built from them, for the lifetime their cache headers allow
 * (capped); errors and invalid documents never (CIMD §5.2). Concurrent resolutions of one URL
 * share one fetch.
 */
export function createMetadataDocumentClients(options: MetadataDocumentClientsOptions): MetadataDocumentClients {
  const now = options.now ?? Date.now;
  const cache = new LRUCache<string, OAuthClient>({ max: options.cacheMaxEntries, ...(options.now ? { perf: { now }, ttlResolution: 0 } : {}) });
  const inFlight = new Map<string, Promise<OAuthClient>>();

  async function load(clientId: string): Promise<OAuthClient> {
    let fetched;
    try {
      fetched = await options.fetch(clientId);
    } catch (error) {
      const reason = error instanceof DocumentFetchError ? error.reason : 'network';
      options.logger.warn({ clientId, reason, error: (error as Error).message }, 'client id metadata document refused or unreachable');
      throw new OAuthError('invalid_client', 'The client id metadata document could not be retrieved', { detail: (error as Error).message, cause: error });
    }
    const document = fetched.json as Record<string, unknown> | null;
    // CIMD §4: the document names itself, by simple string comparison with the URL it was fetched from.
    if (typeof document !== 'object' || document === null || document.client_id !== clientId) {
      options.logger.warn({ clientId }, 'client id metadata document does not name itself as client_id');
      throw new OAuthError('invalid_client', 'The client id metadata document does not match its URL');
    }
    let client: OAuthClient;
    try {
      client = { clientId, kind: 'metadata-document', ...parseClientMetadata(document, 'document') };
    } catch (error) {
      options.logger.warn({ clientId, error: (error as Error).message }, 'client id metadata document is invalid');
      throw new OAuthError('invalid_client', 'The client id metadata document is invalid', { cause: error });
    }
    const ttlSeconds = parseCacheLifetimeSeconds(fetched.headers, options.cacheMaxSeconds);
    if (ttlSeconds > 0) cache.set(clientId, client, { ttl: ttlSeconds * 1000 });
    return client;
  }

  return {
    async resolve(clientId) {
      const problem = describeClientIdUrlProblem(clientId);
      if (problem) throw new OAuthError('invalid_client', 'The client id is not an acceptable client id URL', { detail: problem });
      if (!options.hostPolicy(new URL(clientId).hostname)) {
        throw new OAuthError('invalid_client', 'Client ids on this host are not accepted here', { detail: `host of ${clientId} refused by the trust policy` });
      }
      const cached = cache.get(clientId);
      if (cached) return cached;
      let pending = inFlight.get(clientId);
      if (!pending) {
        pending = load(clientId).finally(() => inFlight.delete(clientId));
        inFlight.set(clientId, pending);
      }
      return pending;
    },
  };
}
