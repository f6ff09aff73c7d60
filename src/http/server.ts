import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../log/index.js';
import type { GatewayEnv } from './context.js';

export interface ListeningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  origin: string;
  port: number;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish for up
   * to `drainTimeoutMs`, then close whatever is left (long-lived SSE streams).
   */
  close(drainTimeoutMs: number): Promise<void>;
}

/** Serves a Hono app on node:http, bound to `host:port`. */
export interface ListenOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Slow-client protection and header size; defaults suit the admin port. */
  limits?: { headersTimeoutMs: number; requestTimeoutMs: number; maxHeaderBytes: number };
}

export async function listen(app: Hono<GatewayEnv>, { host, port, logger, limits }: ListenOptions): Promise<ListeningServer> {
  const listener = getRequestListener(app.fetch, {
    // Keep the process-wide Request/Response untouched: other code in the
    // process (jose, undici, embedders) uses the real ones.
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      logger.error({ err: error }, 'unhandled error in request listener');
      return new Response(null, { status: 500 });
    },
  });
  const server = createServer(
    {
      // Slow-client protection: a client must finish its headers, and its whole
      // request, within these limits.
      headersTimeout: limits?.headersTimeoutMs ?? 20_000,
      requestTimeout: limits?.requestTimeoutMs ?? 60_000,
      // Node checks the two timeouts above on this period (default 30 s, too coarse for them).
      connectionsCheckingInterval: 1000,
      // Over it, node answers 431 before any of our code runs.
      maxHeaderSize: limits?.maxHeaderBytes ?? 16 * 1024,
      keepAliveTimeout: 65_000,
    },
    listener,
  );
  // No count limit: maxHeaderSize bounds the memory already, and node's default (2,000) drops
  // further headers silently, so a repeated Authorization hidden behind enough others went
  // unseen while a proxy in front (keeping the last) could have read the other token.
  server.maxHeadersCount = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const displayHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    origin: `http://${displayHost}:${address.port}`,
    close: (drainTimeoutMs) => closeGracefully(server, drainTimeoutMs),
  };
}

async function closeGracefully(server: Server, drainTimeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection becomes idle when its last response ends; close it
  // then rather than waiting for the keep-alive timeout.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
  sweep.unref();
  deadline.unref();
  await closed;
  clearInterval(sweep);
  clearTimeout(deadline);
}
