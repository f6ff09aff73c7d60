import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { computeBackoffMs, type BackoffPolicy } from './backoff.js';
import type { ConnectUpstream, UpstreamConnection } from './connection.js';
import { buildErrorResponse, INTERNAL_ERROR, isRequest, isResponse, requestKey, type Message } from './messages.js';

export interface UpstreamLinkOptions {
  connect: ConnectUpstream;
  /** Backoff between reconnects; `maxAttempts` undefined: never give up. */
  restart: BackoffPolicy & { maxAttempts: number | undefined };
  /** How long the upstream may take to answer an initialize the link sends itself, in ms. */
  initializeTimeoutMs: number;
  /** Messages held while (re)connecting; more are refused. */
  maxQueuedMessages: number;
  logger: Logger;
}

type LinkState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed';

/**
 * One logical MCP connection to the upstream that outlives its connections:
 * when the child process crashes (or the SSE stream breaks) it opens a new
 * one after an exponential backoff and replays the handshake (the recorded
 * `initialize` and `notifications/initialized`, then `replayState`), so the
 * client's session goes on. Messages sent meanwhile wait in a bounded queue.
 * What was in flight on the lost connection is the owner's to answer
 * (`ondisconnect`); a request that cannot be delivered is answered here with a
 * JSON-RPC error, through `onmessage`, like any upstream answer.
 */
export class UpstreamLink {
  /** Messages from the upstream (answers to the link's own requests excluded). */
  onmessage: (message: Message) => void = () => {};
  /** The connection ended; requests sent on it will not be answered. */
  ondisconnect: (reason: string) => void = () => {};
  /** The link gave up reconnecting (maxAttempts); nothing follows. */
  onclosed: (reason: string) => void = () => {};
  /** Requests replayed after a reconnect's handshake (logging level, subscriptions). Their answers are not passed on. */
  replayState: () => Message[] = () => [];

  #state: LinkState = 'idle';
  #connection: UpstreamConnection | undefined;
  /** Increments with each connection, so events of a dead one are ignored. */
  #generation = 0;
  #queue: Message[] = [];
  #handshake: unknown;
  #failures = 0;
  #connectedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #abortConnecting: ((reason: string) => void) | undefined;
  /** Ids of the link's own requests are unguessable, so a client's id can never be taken for one. */
  readonly #idPrefix = `mcp-auth-gateway:${randomUUID()}:`;
  #idCounter = 0;
  readonly #ownRequests = new Map<string, (message: Message) => void>();

  constructor(private readonly options: UpstreamLinkOptions) {}

  get state(): LinkState {
    return this.#state;
  }

  /** The `initialize` params to send on every new connection (the client's, or the gateway's own for stateless clients). */
  setHandshake(initializeParams: unknown): void {
    this.#handshake = initializeParams;
  }

  /** Opens the first connection; rejects with a `GatewayError` when the upstream cannot be reached (nothing is retried). */
  async open(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`link already ${this.#state}`);
    await this.#connect();
  }

  /** Connects in the background, retrying with backoff; messages wait in the queue meanwhile. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect().catch((error: unknown) => this.#connectFailed(error));
  }

  send(message: Message): void {
    if (this.#state === 'open' && this.#connection) {
      this.#connection.send(message).catch((error: unknown) => this.#undeliverable(message, String((error as Error)?.message ?? error)));
    } else if (this.#state === 'closed') {
      this.#undeliverable(message, 'the upstream connection is closed');
    } else if (this.#queue.length >= this.options.maxQueuedMessages) {
      this.#undeliverable(message, 'too many messages waiting for the upstream');
    } else {
      this.#queue.push(message);
      if (this.#state === 'idle') this.start();
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#abortConnecting?.('closed');
    this.#queue = [];
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }

  async #connect(): Promise<void> {
    this.#state = 'connecting';
    const generation = ++this.#generation;
    let lost: string | undefined;
    const aborted = new Promise<never>((_, reject) => {
      this.#abortConnecting = (reason) => {
        lost = reason;
        reject(new GatewayError('upstream_unreachable', { detail: `upstream connection lost while connecting: ${reason}` }));
      };
    });
    aborted.catch(() => {});
    try {
      const connection = await this.options.connect({
        onmessage: (message) => {
          if (generation === this.#generation) this.#receive(message);
        },
        onending: () => {
          // New messages wait for the next connection; the dying one may still deliver its last answers.
          if (generation === this.#generation && this.#state === 'open') this.#state = 'waiting';
        },
        onclose: (reason) => {
          if (generation !== this.#generation) return;
          if (this.#state === 'connecting') this.#abortConnecting?.(reason);
          else this.#dropped(reason);
        },
      });
      this.#connection = connection;
      try {
        if (this.#handshake !== undefined) await Promise.race([this.#replayHandshake(connection), aborted]);
        if (generation !== this.#generation || lost !== undefined) {
          throw new GatewayError('upstream_unreachable', { detail: `upstream connection lost while connecting: ${lost ?? 'link closed'}` });
        }
      } catch (error) {
        if (generation === this.#generation) this.#generation += 1;
        this.#connection = undefined;
        await connection.close();
        throw error;
      }
    } finally {
      this.#abortConnecting = undefined;
    }
    this.#state = 'open';
    this.#connectedAt = Date.now();
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) this.send(message);
  }

  async #replayHandshake(connection: UpstreamConnection): Promise<void> {
    const answer = await this.#request(connection, 'initialize', this.#handshake);
    if ('error' in answer) {
      throw new GatewayError('upstream_unreachable', { detail: `upstream refused initialize: ${JSON.stringify(answer.error).slice(0, 200)}` });
    }
    await connection.send({ jsonrpc: '2.0', method: 'notifications/initialized' } as Message);
    for (const message of this.replayState()) {
      const { method, params } = message as { method: string; params?: unknown };
      const replayed = await this.#request(connection, method, params);
      if ('error' in replayed) this.options.logger.warn({ method }, 'upstream refused a replayed request after a restart');
    }
  }

  /** Sends one of the link's own requests and waits for its answer (which is not passed on). */
  #request(connection: UpstreamConnection, method: string, params: unknown): Promise<Message> {
    const id = `${this.#idPrefix}${++this.#idCounter}`;
    const key = requestKey(id);
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#ownRequests.delete(key);
        reject(new GatewayError('upstream_timeout', { detail: `upstream did not answer ${method} within ${this.options.initializeTimeoutMs} ms` }));
      }, this.options.initializeTimeoutMs);
      this.#ownRequests.set(key, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      connection.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) } as Message).catch((error: unknown) => {
        clearTimeout(timer);
        this.#ownRequests.delete(key);
        reject(new GatewayError('upstream_unreachable', { detail: `could not send ${method}: ${String((error as Error)?.message ?? error)}`, cause: error }));
      });
    });
  }

  #receive(message: Message): void {
    if (isResponse(message)) {
      const key = requestKey(message.id);
      const own = this.#ownRequests.get(key);
      if (own) {
        this.#ownRequests.delete(key);
        own(message);
        return;
      }
    }
    this.onmessage(message);
  }

  #dropped(reason: string): void {
    this.#connection = undefined;
    this.#state = 'waiting';
    // An upstream that ran for a while before it failed starts the backoff afresh.
    if (Date.now() - this.#connectedAt >= this.options.restart.maxDelayMs) this.#failures = 0;
    this.ondisconnect(reason);
    this.#scheduleReconnect(reason);
  }

  #connectFailed(error: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'waiting';
    // Whoever waited for this attempt gets an answer now rather than after the next backoff.
    const waiting = this.#queue;
    this.#queue = [];
    for (const message of waiting) this.#undeliverable(message, 'the upstream could not be started');
    this.#scheduleReconnect(error instanceof GatewayError ? (error.detail ?? error.code) : String(error));
  }

  #scheduleReconnect(reason: string): void {
    this.#failures += 1;
    const { maxAttempts } = this.options.restart;
    if (maxAttempts !== undefined && this.#failures > maxAttempts) {
      this.options.logger.error({ reason, attempts: maxAttempts }, 'upstream keeps failing; giving up');
      void this.close();
      this.onclosed(`gave up after ${maxAttempts} failed restarts`);
      return;
    }
    const delayMs = computeBackoffMs(this.#failures, this.options.restart);
    this.options.logger.warn({ reason, attempt: this.#failures, delayMs }, 'upstream restarting after backoff');
    this.#timer = setTimeout(() => {
      this.#connect().catch((error: unknown) => this.#connectFailed(error));
    }, delayMs);
  }

  #undeliverable(message: Message, reason: string): void {
    this.options.logger.warn({ reason, method: (message as { method?: string }).method }, 'message not delivered to the upstream');
    if (!isRequest(message)) return;
    const answer = buildErrorResponse(message.id, INTERNAL_ERROR, 'The upstream MCP server is unavailable');
    queueMicrotask(() => this.onmessage(answer));
  }
}
