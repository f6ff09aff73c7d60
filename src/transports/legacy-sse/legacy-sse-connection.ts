import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { classifyUpstreamError } from '../../proxy/index.js';
import { SseParser, type SseItem } from '../../sse/index.js';
import type { ConnectionHandlers, UpstreamConnection } from '../bridge/connection.js';
import type { Message } from '../bridge/messages.js';

export interface LegacySseOptions {
  /** The server's SSE endpoint. */
  url: URL;
  /** The gateway's credential headers, asked for before the GET and each POST (a client-credentials token may have been renewed). */
  credentialHeaders: () => Promise<Record<string, string>>;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  maxMessageBytes: number;
  dispatcher: Dispatcher;
  logger: Logger;
}

/**
 * One session of the 2024-11-05 HTTP+SSE transport: a GET opens the SSE
 * stream, whose first event (`endpoint`) names the URL to POST messages to;
 * the server's messages arrive as `message` events on the stream. POSTs go
 * one at a time, so the server sees messages in the order they were sent
 * (initialize before initialized).
 */
export async function openLegacySseConnection(options: LegacySseOptions, handlers: ConnectionHandlers): Promise<UpstreamConnection> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, options.connectTimeoutMs);
  let closing = false;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(options.url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', ...(await options.credentialHeaders()) },
      signal: abort.signal,
      dispatcher: options.dispatcher,
      headersTimeout: options.connectTimeoutMs,
      bodyTimeout: 0,
    });
  } catch (error) {
    clearTimeout(timer);
    if (timedOut) throw new GatewayError('upstream_timeout', { detail: `legacy SSE upstream did not answer within ${options.connectTimeoutMs} ms`, cause: error });
    throw classifyUpstreamError(error);
  }
  // Destroying the body (on failure, on close) makes it emit an abort error: expected, not a crash.
  response.body.on('error', () => {});
  const failOpen = (error: GatewayError): never => {
    clearTimeout(timer);
    response.body.destroy();
    throw error;
  };
  if (response.statusCode === 401 || response.statusCode === 403) {
    failOpen(new GatewayError('upstream_auth_failed', { detail: `legacy SSE upstream answered ${response.statusCode} to the gateway credential` }));
  }
  const contentType = String(response.headers['content-type'] ?? '');
  if (response.statusCode !== 200 || !contentType.startsWith('text/event-stream')) {
    failOpen(new GatewayError('upstream_unreachable', { detail: `legacy SSE upstream answered ${response.statusCode} (${contentType || 'no content type'}) to GET` }));
  }

  const logger = options.logger.child({ upstream: 'legacy-sse' });
  const parser = new SseParser({ maxEventBytes: options.maxMessageBytes });
  let resolveEndpoint!: (endpoint: URL) => void;
  let rejectEndpoint!: (error: GatewayError) => void;
  const endpoint = new Promise<URL>((resolve, reject) => {
    resolveEndpoint = resolve;
    rejectEndpoint = reject;
  });
  let endpointKnown = false;
  let ended = false;

  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    if (!endpointKnown) {
      const code = timedOut ? 'upstream_timeout' : 'upstream_unreachable';
      rejectEndpoint(new GatewayError(code, { detail: `legacy SSE upstream: ${timedOut ? `no endpoint event within ${options.connectTimeoutMs} ms` : reason} before its endpoint event` }));
    }
    else if (!closing) {
      logger.warn({ reason }, 'legacy SSE upstream stream ended');
      handlers.onclose(reason);
    }
  };
  const receive = (item: SseItem) => {
    if (item.type !== 'event' || item.data === undefined) return;
    if (item.event === 'endpoint') {
      if (endpointKnown) return;
      const url = new URL(item.data, options.url);
      // Messages carry the gateway's credential: they go nowhere but to the server that was configured.
      if (url.origin !== options.url.origin) {
        rejectEndpoint(new GatewayError('upstream_unreachable', { detail: `legacy SSE upstream named an endpoint on another origin (${url.origin})` }));
        return;
      }
      endpointKnown = true;
      resolveEndpoint(url);
      return;
    }
    if (item.event !== undefined && item.event !== 'message') return;
    let message: unknown;
    try {
      message = JSON.parse(item.data);
    } catch {
      logger.warn({ bytes: item.data.length }, 'legacy SSE upstream sent an event that is not JSON; dropped');
      return;
    }
    if (typeof message === 'object' && message !== null && (message as { jsonrpc?: unknown }).jsonrpc === '2.0') handlers.onmessage(message as Message);
  };
  response.body.on('data', (chunk: Buffer) => {
    let items: SseItem[];
    try {
      items = parser.push(chunk);
    } catch (error) {
      logger.error({ err: error }, 'legacy SSE upstream sent an event larger than maxMessageBytes; closing');
      response.body.destroy();
      end('event too large');
      return;
    }
    for (const item of items) receive(item);
  });
  response.body.once('end', () => end('the upstream closed the SSE stream'));
  response.body.on('error', (error) => end(`the SSE stream broke (${(error as NodeJS.ErrnoException).code ?? error.message})`));

  let messagesUrl: URL;
  try {
    messagesUrl = await endpoint;
  } catch (error) {
    response.body.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  let queue: Promise<void> = Promise.resolve();
  async function post(message: Message): Promise<void> {
    const answer = await request(messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await options.credentialHeaders()) },
      body: JSON.stringify(message),
      dispatcher: options.dispatcher,
      headersTimeout: options.responseTimeoutMs,
      bodyTimeout: options.responseTimeoutMs,
    });
    await answer.body.dump();
    if (answer.statusCode === 401 || answer.statusCode === 403) {
      logger.error({ status: answer.statusCode }, 'legacy SSE upstream refused the gateway credential on POST');
    }
    if (answer.statusCode < 200 || answer.statusCode >= 300) throw new Error(`the upstream answered ${answer.statusCode} to the message`);
  }

  return {
    send(message: Message): Promise<void> {
      if (ended) return Promise.reject(new Error('the upstream SSE stream has ended'));
      const sent = queue.then(() => post(message));
      queue = sent.catch(() => {});
      return sent;
    },
    async close(): Promise<void> {
      closing = true;
      response.body.destroy();
      await queue;
    },
  };
}
