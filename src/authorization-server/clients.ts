import { describeClientIdUrlProblem, looksLikeClientIdUrl, type MetadataDocumentClients } from './cimd/index.js';
import type { OAuthClient } from './client-metadata.js';
import { OAuthError } from './oauth-error.js';
import type { ClientStore } from './store/index.js';

export interface ClientResolver {
  /** The client with this id: a registered one, or one whose metadata document is fetched. @throws OAuthError invalid_client */
  resolve(clientId: string): Promise<OAuthClient>;
  /**
   * Identifies the client of a back-channel request (token, revocation) without fetching
   * anything: a registered client must still exist; a Client Identifier URL must be well-formed,
   * and what it may do was fixed when its document was read at authorization (the code or
   * refresh token is bound to it). So an unauthenticated token request can never make the
   * gateway fetch a URL.
   * @throws OAuthError invalid_client
   */
  identify(clientId: string): Promise<string>;
}

/**
 * Every client id is one of two kinds, told apart by form: an https URL is a Client Identifier URL
 * (CIMD); anything else was issued by the registration endpoint (those never start with https://,
 * CIMD §7.1).
 */
export function createClientResolver({ store, documents }: { store: ClientStore; documents: MetadataDocumentClients | undefined }): ClientResolver {
  return {
    async resolve(clientId) {
      if (looksLikeClientIdUrl(clientId)) {
        if (!documents) throw new OAuthError('invalid_client', 'Client id metadata documents are not accepted here');
        return documents.resolve(clientId);
      }
      const client = await store.get(clientId);
      if (!client) throw new OAuthError('invalid_client', 'Unknown client');
      return client;
    },
    async identify(clientId) {
      if (looksLikeClientIdUrl(clientId)) {
        if (!documents || describeClientIdUrlProblem(clientId)) throw new OAuthError('invalid_client', 'Unknown client');
        return clientId;
      }
      if (!(await store.get(clientId))) throw new OAuthError('invalid_client', 'Unknown client');
      return clientId;
    },
  };
}
