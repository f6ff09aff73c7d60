import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { HttpUpstreamConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { PreparedUpstreamAuth, UpstreamAuth, UpstreamCaller } from '../upstream-auth/index.js';
import { buildClientHeaders, buildUpstreamHeaders } from './forward-headers.js';
import { streamResponse, type ResponsePlan } from './response-plan.js';
import { classifyUpstreamError, isAbort } from './upstream-error.js';

/** What happened to a forwarded request, for audit and metrics. */
export interface ForwardOutcome {
  /** Status sent to the client. */
  status: number;
  /** Time until the upstream's response headers arrived, in ms. */
  upstreamHeadersMs: number;
  /** How the response ended: in full, cut by the client going away, or broken by the upstream. */
  endedBy: 'complete' | 'client' | 'upstream';
  /** True when the upstream answered 401, the credential was renewed and the request sent again. */
  credentialRenewed: boolean;
}

export interface ForwardRequest {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  /** The POST body as received (forwarded byte for byte), or undefined for GET/DELETE. */
  body: Buffer | undefined;
  /** The same body, parsed once by the gateway (read-only), for forwarders that work on messages rather than bytes. */
  parsedBody?: unknown;
  /** Request headers to set on the upstream request, over the client's (lowercase names). */
  headerOverrides?: Record<string, string>;
  /**
   * Called once the upstream headers are known, before they are sent (it may
   * adjust `headers`, e.g. drop Content-Length): how the body goes to the client.
   */
  prepareResponse?: (status: number, headers: Record<string, string | string[]>) => ResponsePlan;
  /** Who the call is for: the service credential and identity headers are built for them. */
  caller?: UpstreamCaller;
}

export interface Forwarder {
  /**
   * Sends the request upstream and streams the response back. Rejects with a
   * `GatewayError` only while nothing was sent to the client yet; later failures
   * end the client stream and are reported in the outcome.
   */
  forward(request: ForwardRequest): Promise<ForwardOutcome>;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  upstream: HttpUpstreamConfig;
  trustForwardedHeaders: boolean;
  /** The public resource URL, for X-Forwarded-Proto/Host. */
  publicUrl: string;
  /** Lowercased request headers never sent upstream besides the built-in list. */
  dropRequestHeaders?: ReadonlySet<string>;
  /** The gateway's credential and identity headers (whose client copies are dropped too); none when absent. */
  auth?: Pick<UpstreamAuth, 'prepare' | 'dropRequestHeaders'>;
}

const NO_AUTH: PreparedUpstreamAuth = { headers: {} };

/**
 * The forwarding step, on an undici keep-alive pool (chosen over
 * http-proxy-middleware by measurement: docs/decisions/0001-forwarding-engine.md).
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const upstreamUrl = new URL(options.upstream.url);
  const publicUrl = new URL(options.publicUrl);
  const tls = options.upstream.tls;
  const pool = new Pool(upstreamUrl.origin, {
    // No cap by default: an SSE stream holds its connection for as long as it is open.
    connections: options.upstream.maxConnections ?? null,
    connect: {
      timeout: options.upstream.connectTimeoutMs,
      // Mutual TLS towards the upstream, and the CA its certificate is checked against.
      ...(tls?.clientCertificate ? { cert: tls.clientCertificate, key: tls.clientKey } : {}),
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.serverName ? { servername: tls.serverName } : {}),
    },
    headersTimeout: options.upstream.responseTimeoutMs,
    // SSE streams may stay quiet for a long time; idle limits belong to the
    // client-facing side, not to the upstream socket.
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
  });
  const headerContext = {
    trustForwardedHeaders: options.trustForwardedHeaders,
    publicProto: publicUrl.protocol.slice(0, -1),
    publicHost: publicUrl.host,
    alsoDrop: new Set([...(options.dropRequestHeaders ?? []), ...(options.auth?.dropRequestHeaders ?? [])]),
  };

  async function forward({ incoming, outgoing, body, headerOverrides, prepareResponse, caller }: ForwardRequest): Promise<ForwardOutcome> {
    // Before anything goes upstream: a credential that cannot be obtained is a 502/503 with nothing sent.
    const auth = options.auth && caller ? await options.auth.prepare(caller) : NO_AUTH;

    const abort = new AbortController();
    const onClientClose = () => {
      if (!outgoing.writableFinished) abort.abort();
    };
    outgoing.once('close', onClientClose);
    const send = (gatewayHeaders: Record<string, string>) =>
      pool.request({
        method: incoming.method as Dispatcher.HttpMethod,
        path: upstreamPath(upstreamUrl, incoming.url),
        headers: {
          ...buildUpstreamHeaders(incoming.headers, { ...headerContext, gatewayHeaders, remoteAddress: incoming.socket.remoteAddress }),
          ...headerOverrides,
        },
        body: body ?? null,
        signal: abort.signal,
      });

    let started = performance.now();
    let response: Dispatcher.ResponseData;
    let credentialRenewed = false;
    try {
      response = await send(auth.headers);
      if (response.statusCode === 401 && auth.renew) {
        // The upstream refused a renewable credential (revoked, rotated): renew it once and
        // send the request again; the body is a buffer, so it can be replayed as is.
        await response.body.dump();
        const renewed = await auth.renew();
        if (renewed) {
          credentialRenewed = true;
          started = performance.now();
          response = await send(renewed.headers);
        }
      }
    } catch (error) {
      outgoing.off('close', onClientClose);
      if (isAbort(error)) return { status: 499, upstreamHeadersMs: performance.now() - started, endedBy: 'client', credentialRenewed };
      throw classifyUpstreamError(error);
    }
    const upstreamHeadersMs = performance.now() - started;

    if (response.statusCode === 401) {
      // The upstream refused *our* credential. Passing its 401 on would make the
      // client start an OAuth flow against the wrong party.
      response.body.resume();
      outgoing.off('close', onClientClose);
      throw new GatewayError('upstream_auth_failed', {
        detail: `upstream answered 401 to the gateway credential${credentialRenewed ? ' (also after renewing it)' : ''}`,
      });
    }

    const headers = buildClientHeaders(response.headers);
    const plan = prepareResponse?.(response.statusCode, headers);
    outgoing.writeHead(response.statusCode, headers);
    // Send the headers now: an SSE stream may stay silent for a while and the
    // client should know the stream is open.
    if (isEventStream(headers)) outgoing.flushHeaders();

    try {
      await streamResponse(response.body, plan, outgoing);
      return { status: response.statusCode, upstreamHeadersMs, endedBy: 'complete', credentialRenewed };
    } catch {
      // Client gone or upstream reset mid-stream: the status line is already
      // out, so the only honest signal left is to cut the stream.
      if (!outgoing.destroyed) outgoing.destroy();
      return { status: response.statusCode, upstreamHeadersMs, endedBy: abort.signal.aborted ? 'client' : 'upstream', credentialRenewed };
    } finally {
      outgoing.off('close', onClientClose);
    }
  }

  return { forward, close: () => pool.close() };
}

/** The upstream endpoint's path with the client's query string (already checked for tokens). */
function upstreamPath(upstreamUrl: URL, requestUrl: string | undefined): string {
  const queryIndex = requestUrl?.indexOf('?') ?? -1;
  const query = queryIndex >= 0 ? requestUrl!.slice(queryIndex) : '';
  return `${upstreamUrl.pathname}${query || upstreamUrl.search}`;
}

function isEventStream(headers: Record<string, string | string[]>): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('text/event-stream');
}
