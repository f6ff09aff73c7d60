import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Logger } from '../../log/index.js';
import { BoundedEventStore } from './event-store.js';
import { findRelatedRequest, trackRequest, type InFlightRequest } from './message-routing.js';
import { buildErrorResponse, INTERNAL_ERROR, isRequest, isResponse, requestKey, type Message, type RequestId } from './messages.js';
import type { UpstreamLink } from './upstream-link.js';

/** The `retry` (ms) sent with each stream's first event: how soon a client that lost a stream comes back with Last-Event-ID. */
const SSE_RETRY_MS = 1000;
/** What a session remembers for resumption (per session). */
const EVENT_STORE_LIMITS = { maxEvents: 1000, maxBytes: 4 * 1024 * 1024 };

export interface BridgeSessionOptions {
  /** Called once the session has its id (the initialize was accepted). */
  onregister: (sessionId: string, session: BridgeSession) => void;
  /** Called once, when the session ends (DELETE, idle, upstream gave up, shutdown). */
  onclose: (sessionId: string | undefined) => void;
  logger: Logger;
}

/**
 * One client session (2025-11-25 Streamable HTTP) bridged to its own upstream
 * link. The client-facing side is the official SDK's server transport, used
 * in-process (no socket): it owns the session id, the POST and GET SSE
 * streams, DELETE and `Last-Event-ID` resumption, exactly as an SDK server
 * would. Between it and the link, messages pass unchanged (same ids: the
 * upstream serves this one client); only the choice of stream for messages
 * from the upstream is made here (`findRelatedRequest`).
 *
 * The session remembers what a restarted upstream must be told again: the
 * client's `initialize` (the link replays it), its logging level and its
 * resource subscriptions.
 */
export class BridgeSession {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly #inFlight = new Map<string, InFlightRequest>();
  #loggingLevel: unknown;
  readonly #subscriptions = new Set<string>();
  #closed = false;
  /** Requests being forwarded right now (streams included), and when the last one ended: for the idle timeout. */
  activeRequests = 0;
  lastActivityAt = Date.now();

  constructor(
    private readonly link: UpstreamLink,
    private readonly options: BridgeSessionOptions,
  ) {
    this.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      eventStore: new BoundedEventStore(EVENT_STORE_LIMITS),
      retryInterval: SSE_RETRY_MS,
      // Keep-alive comments and the idle timeout are the gateway's own (limits.sse*), for
      // every upstream alike; the transport's would make a silent upstream look busy.
      keepAliveMs: 0,
      onsessioninitialized: (sessionId) => options.onregister(sessionId, this),
    });
    this.transport.onmessage = (message) => this.#fromClient(message as Message);
    this.transport.onclose = () => void this.close();
    this.transport.onerror = (error) => options.logger.debug({ err: error, sessionId: this.transport.sessionId }, 'bridged session: client transport error');
    link.onmessage = (message) => this.#fromUpstream(message);
    link.ondisconnect = (reason) => this.#failInFlight(reason);
    link.onclosed = () => void this.close();
    link.replayState = () => this.#stateToReplay();
  }

  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  handleRequest(request: Request, parsedBody: unknown): Promise<Response> {
    return this.transport.handleRequest(request, { parsedBody });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.options.onclose(this.transport.sessionId);
    await Promise.allSettled([this.transport.close(), this.link.close()]);
  }

  #fromClient(message: Message): void {
    trackRequest(message, this.#inFlight);
    if (isRequest(message)) this.#rememberState(message as Message & { method: string; params?: Record<string, unknown> });
    this.link.send(message);
  }

  #fromUpstream(message: Message): void {
    if (isResponse(message)) {
      this.#inFlight.delete(requestKey(message.id));
      this.#send(message);
      return;
    }
    const relatedRequestId = findRelatedRequest(message, this.#inFlight);
    this.#send(message, relatedRequestId);
  }

  #send(message: Message, relatedRequestId?: RequestId): void {
    this.transport.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch((error: unknown) => {
      // The client's stream for it is gone and cannot be resumed: nobody to tell.
      this.options.logger.debug({ err: error, sessionId: this.transport.sessionId }, 'bridged session: message for a closed stream dropped');
    });
  }

  /** The upstream is gone (it will be restarted): what it was doing will never be answered, so say so now. */
  #failInFlight(reason: string): void {
    this.options.logger.warn({ sessionId: this.transport.sessionId, inFlight: this.#inFlight.size, reason }, 'bridged session: upstream lost; failing requests in flight');
    const lost = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const request of lost) this.#send(buildErrorResponse(request.id, INTERNAL_ERROR, 'The upstream MCP server stopped while handling this request'));
  }

  #rememberState(request: Message & { method: string; params?: Record<string, unknown> }): void {
    const params = request.params ?? {};
    if (request.method === 'initialize') this.link.setHandshake(params);
    else if (request.method === 'logging/setLevel') this.#loggingLevel = params['level'];
    else if (request.method === 'resources/subscribe' && typeof params['uri'] === 'string') this.#subscriptions.add(params['uri']);
    else if (request.method === 'resources/unsubscribe' && typeof params['uri'] === 'string') this.#subscriptions.delete(params['uri']);
  }

  #stateToReplay(): Message[] {
    const replay: Message[] = [];
    if (this.#loggingLevel !== undefined) replay.push({ jsonrpc: '2.0', method: 'logging/setLevel', params: { level: this.#loggingLevel } } as Message);
    for (const uri of this.#subscriptions) replay.push({ jsonrpc: '2.0', method: 'resources/subscribe', params: { uri } } as Message);
    return replay;
  }
}
