export { parseCacheLifetimeSeconds } from './cache-lifetime.js';
export { describeClientIdUrlProblem, looksLikeClientIdUrl } from './client-id-url.js';
export {
  createGuardedFetch,
  createGuardedLookup,
  DocumentFetchError,
  type DocumentFetcher,
  type FetchedDocument,
  type GuardedFetchOptions,
  type ResolveAll,
} from './guarded-fetch.js';
export { createHostPolicy, type HostPolicy } from './host-policy.js';
export { createMetadataDocumentClients, type MetadataDocumentClients, type MetadataDocumentClientsOptions } from './metadata-document-clients.js';
export { isLoopbackAddress, isPublicAddress } from './special-use-addresses.js';
