import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../log/index.js';
import type { GatewayEnv } from './context.js';
import type { McpEndpoint } from './mcp/mcp-endpoint.js';

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
  /** The MCP endpoint's path and handler: its requests skip the router (the app routes them too). */
  mcp?: { path: string; endpoint: McpEndpoint };
}

export async function listen(app: Hono<GatewayEnv>, { host, port, logger, limits, mcp }: ListenOptions): Promise<ListeningServer> {
  const listener = getRequestListener(app.fetch, {
    // Keep the process-wide Request/Response untouched: other code in the
    // process (jose, undici, embedders) uses the real ones.
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      logger.error({ err: error }, 'unhandled error in request listener');
      return new Response(null, { status: 500 });
    },
  });
  const isMcpRequest = mcp ? mcpRequestMatcher(mcp.path) : () => false;
  const route = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (!isMcpRequest(incoming)) return listener(incoming, outgoing);
    mcp!.endpoint(incoming, outgoing).catch((error: unknown) => {
      // The endpoint answers its own failures; this is a bug that escaped it.
      logger.error({ err: error }, 'unhandled error on the MCP endpoint');
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
      else outgoing.destroy();
    });
  };
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
    route,
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

/**
 * POST/GET/DELETE to the MCP path exactly as configured, with or without a
 * trailing slash and with any query string. Other spellings (percent-encoded,
 * `//mcp`) go through the router, which resolves them to the same endpoint or refuses them.
 */
function mcpRequestMatcher(mcpPath: string): (incoming: IncomingMessage) => boolean {
  const withSlash = mcpPath.endsWith('/') ? mcpPath : `${mcpPath}/`;
  return (incoming) => {
    const method = incoming.method;
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return false;
    const url = incoming.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    return path === mcpPath || path === withSlash;
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
