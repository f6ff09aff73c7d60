import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/index.js';
import { buildClientInformation, parseClientMetadata, type OAuthClient } from './client-metadata.js';
import { OAuthError } from './oauth-error.js';
import type { ClientStore } from './store/index.js';

export interface Registration {
  /**
   * RFC 7591 §3: validates the metadata, issues a client id, stores the client durably, and
   * returns the client information response.
   * @throws OAuthError invalid_client_metadata / invalid_redirect_uri / temporarily_unavailable
   */
  register(metadata: unknown): Promise<Record<string, unknown>>;
}

/**
 * Dynamic registration of public clients. Client ids are random (`mcp-` + 128 bits), never an
 * https URL, so they cannot be mistaken for client ID metadata documents. No registration access
 * token (RFC 7592 management is not offered): a client that loses its id registers again.
 */
export function createRegistration({ store, maxClients, logger, now = Date.now }: { store: ClientStore; maxClients: number; logger: Logger; now?: () => number }): Registration {
  return {
    async register(metadata) {
      const parsed = parseClientMetadata(metadata, 'registration');
      if ((await store.count()) >= maxClients) {
        logger.warn({ maxClients }, 'client registration refused: the registered client limit is reached');
        throw new OAuthError('temporarily_unavailable', 'No more clients can be registered');
      }
      const client: OAuthClient = {
        clientId: `mcp-${randomBytes(16).toString('base64url')}`,
        kind: 'registered',
        ...parsed,
        issuedAt: Math.floor(now() / 1000),
      };
      await store.add(client);
      logger.info({ clientId: client.clientId, clientName: client.clientName, redirectUris: client.redirectUris }, 'client registered');
      return buildClientInformation(client);
    },
  };
}
