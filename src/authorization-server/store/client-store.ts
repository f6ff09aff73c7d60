import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../log/index.js';
import type { OAuthClient } from '../client-metadata.js';
import { JsonLinesFile } from './json-lines-file.js';

/**
 * Where dynamically registered clients live. Registrations must survive a restart (a client keeps
 * its client_id for good) and, with several replicas, be visible to all of them: implement this
 * interface on a shared database and pass it to `createGateway` (docs/as-facade.md).
 */
export interface ClientStore {
  get(clientId: string): Promise<OAuthClient | undefined>;
  /** Stores a new client; resolves once it is durable. */
  add(client: OAuthClient): Promise<void>;
  count(): Promise<number>;
  close(): Promise<void>;
}

const clientSchema = z.object({
  clientId: z.string().min(1),
  kind: z.literal('registered'),
  clientName: z.string().optional(),
  redirectUris: z.array(z.string().min(1)).min(1),
  grantTypes: z.array(z.enum(['authorization_code', 'refresh_token'])).min(1),
  applicationType: z.enum(['web', 'native']),
  issuedAt: z.number().optional(),
});
const recordSchema = z.object({ v: z.literal(1), type: z.literal('client'), client: clientSchema });
type ClientRecord = z.infer<typeof recordSchema>;

/** The default ClientStore: `clients.jsonl` in the data directory, in memory once loaded. */
export class FileClientStore implements ClientStore {
  readonly #clients = new Map<string, OAuthClient>();
  readonly #file: JsonLinesFile<ClientRecord>;

  private constructor(file: JsonLinesFile<ClientRecord>, records: ClientRecord[]) {
    this.#file = file;
    for (const { client } of records) this.#clients.set(client.clientId, { ...client, clientName: client.clientName });
  }

  static async open(directory: string, logger: Logger): Promise<FileClientStore> {
    const { file, records } = await JsonLinesFile.open(join(directory, 'clients.jsonl'), (value) => recordSchema.parse(value), logger);
    return new FileClientStore(file, records);
  }

  async get(clientId: string): Promise<OAuthClient | undefined> {
    return this.#clients.get(clientId);
  }

  async add(client: OAuthClient): Promise<void> {
    await this.#file.append({ v: 1, type: 'client', client: client as ClientRecord['client'] });
    this.#clients.set(client.clientId, client);
  }

  async count(): Promise<number> {
    return this.#clients.size;
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
