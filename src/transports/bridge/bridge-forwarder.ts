import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Transform } from 'node:stream';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { buildClientHeaders, streamResponse, type ForwardOutcome, type Forwarder, type ForwardRequest } from '../../proxy/index.js';
import type { UpstreamCaller } from '../../upstream-auth/index.js';
import type { BackoffPolicy } from './backoff.js';
import { BridgeSession } from './bridge-session.js';
import type { ConnectionHandlers, UpstreamConnection } from './connection.js';
import { jsonRpcErrorResponse, StatelessBridge } from './stateless-bridge.js';
import { UpstreamLink } from './upstream-link.js';

export interface BridgeForwarderOptions {
  /** `stdio` or `legacy-sse`, for logs. */
  kind: string;
  /** Opens one upstream connection; `caller` is who it is opened for (the session's initialize, or a stateless request). */
  connect: (handlers: ConnectionHandlers, caller: UpstreamCaller | undefined) => Promise<UpstreamConnection>;
  sessions: { max: number; idleTimeoutSeconds: number };
  restart: BackoffPolicy & { maxAttempts: number };
  initializeTimeoutMs: number;
  logger: Logger;
}

/** The request headers the in-process transport reads; nothing else (no credential, no cookie) goes near the upstream side. */
const TRANSPORT_HEADERS = ['accept', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'] as const;
/** First protocol revision without initialize and sessions. Revisions are dates, so they compare as strings. */
const FIRST_STATELESS_REVISION = '2026-07-28';
/** Messages waiting for a (re)starting upstream, per session. */
const MAX_QUEUED_MESSAGES = 256;

/**
 * A `Forwarder` for upstreams that do not speak Streamable HTTP: the gateway
 * plays the Streamable HTTP server towards the client and bridges to the
 * upstream's own transport (a child's stdio, a legacy SSE session). Everything
 * before this step (authentication, policy, audit, list filtering) is the same
 * as for an HTTP upstream: the response is handed back as status, headers and
 * a byte stream, through the same `prepareResponse`.
 *
 * - `initialize` without a session: a new session with its own upstream link
 *   (docs/decisions/0002-one-child-per-session.md), up to `sessions.max`;
 * - `Mcp-Session-Id`: that session, or 404 when it is unknown or ended;
 * - a 2026-07-28 request without a session: the shared stateless upstream.
 */
export function createBridgeForwarder(options: BridgeForwarderOptions): Forwarder {
  const logger = options.logger.child({ upstream: options.kind });
  const sessions = new Map<string, BridgeSession>();
  let opening = 0;
  let closed = false;

  const newLink = (maxAttempts: number | undefined, caller: () => UpstreamCaller | undefined) =>
    new UpstreamLink({
      connect: (handlers) => options.connect(handlers, caller()),
      restart: { ...options.restart, maxAttempts },
      initializeTimeoutMs: options.initializeTimeoutMs,
      maxQueuedMessages: MAX_QUEUED_MESSAGES,
      logger,
    });
  // Shared by every stateless client; retried without end (no client session to give up on).
  // Its connections are opened for the latest stateless caller (only caller-independent
  // credentials are allowed with bridged upstreams, so any caller's will do).
  let statelessCaller: UpstreamCaller | undefined;
  const stateless = new StatelessBridge(newLink(undefined, () => statelessCaller), logger);

  const idleMs = options.sessions.idleTimeoutSeconds * 1000;
  const sweep = idleMs > 0 ? setInterval(closeIdleSessions, Math.min(Math.max(idleMs / 4, 1000), 60_000)) : undefined;
  sweep?.unref();

  function closeIdleSessions(): void {
    const now = Date.now();
    for (const session of sessions.values()) {
      if (session.activeRequests === 0 && now - session.lastActivityAt >= idleMs) {
        logger.info({ sessionId: session.sessionId, idleTimeoutSeconds: options.sessions.idleTimeoutSeconds }, 'bridged session idle; ending it');
        void session.close();
      }
    }
  }

  async function openSession(request: Request, parsedBody: unknown, caller: UpstreamCaller | undefined, claim: (session: BridgeSession) => void): Promise<Response> {
    if (closed) throw new GatewayError('service_unavailable', { detail: 'gateway is shutting down' });
    if (sessions.size + opening >= options.sessions.max) {
      throw new GatewayError('service_unavailable', { detail: `${options.kind} upstream: ${options.sessions.max} sessions open (upstream.sessions.max)`, headers: { 'retry-after': '5' } });
    }
    opening += 1;
    let session: BridgeSession | undefined;
    try {
      const link = newLink(options.restart.maxAttempts, () => caller);
      await link.open();
      session = new BridgeSession(link, {
        logger,
        onregister: (sessionId, registered) => {
          sessions.set(sessionId, registered);
          logger.info({ sessionId, sessions: sessions.size }, 'bridged session opened');
        },
        onclose: (sessionId) => {
          if (sessionId !== undefined && sessions.delete(sessionId)) logger.info({ sessionId, sessions: sessions.size }, 'bridged session ended');
        },
      });
      // The initialize (and its response stream) is the new session's first activity: not idle while the child starts.
      claim(session);
      const response = await session.handleRequest(request, parsedBody);
      // Refused before it became a session (a malformed initialize): nothing to keep.
      if (session.sessionId === undefined) await session.close();
      return response;
    } catch (error) {
      await session?.close();
      throw error;
    } finally {
      opening -= 1;
    }
  }

  /** Answers the request; `claim` marks the session it belongs to as busy until the response has ended. */
  function respond(request: Request, parsedBody: unknown, caller: UpstreamCaller | undefined, claim: (session: BridgeSession) => void): Promise<Response> | Response {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcErrorResponse(404, -32001, 'Session not found');
      claim(session);
      return session.handleRequest(request, parsedBody);
    }
    if (request.method === 'POST' && isInitialize(parsedBody)) return openSession(request, parsedBody, caller, claim);
    const version = request.headers.get('mcp-protocol-version');
    if (version !== null && version >= FIRST_STATELESS_REVISION) {
      statelessCaller = caller;
      return stateless.handleRequest(request, parsedBody);
    }
    return jsonRpcErrorResponse(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  }

  async function forward({ incoming, outgoing, parsedBody, body, headerOverrides, prepareResponse, caller }: ForwardRequest): Promise<ForwardOutcome> {
    const started = performance.now();
    let busy: BridgeSession | undefined;
    const claim = (session: BridgeSession) => {
      busy = session;
      session.activeRequests += 1;
    };
    try {
      const response = await respond(buildTransportRequest(incoming, headerOverrides), parsedBody ?? parseBody(body), caller, claim);
      return await sendResponse(response, outgoing, prepareResponse, performance.now() - started);
    } finally {
      if (busy) {
        busy.activeRequests -= 1;
        busy.lastActivityAt = Date.now();
      }
    }
  }

  return {
    forward,
    async close() {
      closed = true;
      clearInterval(sweep);
      await Promise.allSettled([...[...sessions.values()].map((session) => session.close()), stateless.close()]);
    },
  };
}

function isInitialize(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize';
}

function parseBody(body: Buffer | undefined): unknown {
  return body === undefined ? undefined : JSON.parse(body.toString('utf8'));
}

function buildTransportRequest(incoming: IncomingMessage, overrides: Record<string, string> | undefined): Request {
  const headers = new Headers();
  for (const name of TRANSPORT_HEADERS) {
    const value = overrides?.[name] ?? incoming.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return new Request(`http://mcp-auth-gateway.invalid${incoming.url ?? '/'}`, { method: incoming.method ?? 'GET', headers });
}

/** Writes the transport's answer to the client, through the pipeline's transforms (audit tap, list filter). */
async function sendResponse(
  response: Response,
  outgoing: ServerResponse,
  prepareResponse: ForwardRequest['prepareResponse'],
  upstreamHeadersMs: number,
): Promise<ForwardOutcome> {
  const received: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    received[name] = value;
  });
  const headers = buildClientHeaders(received);
  const plan = prepareResponse?.(response.status, headers);
  outgoing.writeHead(response.status, headers);
  if (!response.body) {
    outgoing.end();
    return { status: response.status, upstreamHeadersMs, endedBy: 'complete', credentialRenewed: false };
  }
  if (String(headers['content-type'] ?? '').startsWith('text/event-stream')) outgoing.flushHeaders();
  let clientGone = false;
  const onClose = () => {
    clientGone = !outgoing.writableFinished;
  };
  outgoing.once('close', onClose);
  try {
    await streamResponse(toNodeReadable(response.body), plan, outgoing);
    return { status: response.status, upstreamHeadersMs, endedBy: 'complete', credentialRenewed: false };
  } catch {
    if (!outgoing.destroyed) outgoing.destroy();
    return { status: response.status, upstreamHeadersMs, endedBy: clientGone ? 'client' : 'upstream', credentialRenewed: false };
  } finally {
    outgoing.off('close', onClose);
  }
}

/**
 * The web stream as a node stream of Buffers. Destroying it (the client left)
 * cancels the web stream at once, even while a read is pending on a quiet SSE
 * stream, so the transport releases that stream (a dropped GET stream could
 * not be opened again otherwise: one per session).
 */
function toNodeReadable(body: ReadableStream<Uint8Array>): Readable {
  const reader = body.getReader();
  return new Readable({
    read() {
      reader.read().then(
        ({ done, value }) => this.push(done ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
        (error: unknown) => this.destroy(error as Error),
      );
    },
    destroy(error, callback) {
      reader.cancel().then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}
