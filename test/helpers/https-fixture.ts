/** A local https server with the test PKI's certificate (for 127.0.0.1 and localhost), serving what each test sets. */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TLS } from './tls-fixtures.js';

export type FixtureHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpsFixture {
  /** https://localhost:PORT */
  origin: string;
  port: number;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** Serves `handler` at `path` (replacing any previous one). */
  route(path: string, handler: FixtureHandler): void;
  /** Serves a JSON document at `path`, with optional extra headers. */
  json(path: string, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startHttpsFixture(): Promise<HttpsFixture> {
  const routes = new Map<string, FixtureHandler>();
  const requests: string[] = [];
  const server: Server = createServer({ cert: TLS.serverCertificate, key: TLS.serverKey }, (req, res) => {
    requests.push(req.url ?? '');
    const handler = routes.get(new URL(req.url ?? '/', 'https://fixture').pathname);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    port,
    requests,
    route: (path, handler) => routes.set(path, handler),
    json(path, body, headers = {}) {
      routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body)));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
