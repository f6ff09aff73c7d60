import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log/index.js';
import { buildErrorResponse, INTERNAL_ERROR, isNotification, isRequest, isResponse, METHOD_NOT_FOUND, readProgressToken, type Message, type RequestId } from './messages.js';
import type { UpstreamLink } from './upstream-link.js';

const encoder = new TextEncoder();
/** What the gateway says about itself when it initializes the shared upstream. */
const GATEWAY_CLIENT_INFO = { name: 'mcp-auth-gateway', version: '0.1.0' };

interface PendingRequest {
  clientId: RequestId;
  clientProgressToken: string | number | undefined;
  /** Writes a message to the client's response; `final` ends it. */
  write(message: Message, final: boolean): void;
}

/**
 * Stateless requests (2026-07-28: no initialize, no session) bridged to one
 * upstream shared by all such clients. The gateway initializes that upstream
 * itself, once per connection, declaring no client capabilities: a stateless
 * client cannot answer a server's request in the middle of its own, so the
 * upstream must not send one (if it does, it gets "method not found").
 *
 * Requests from different clients meet on one connection, so their ids are
 * replaced by the bridge's own (and `_meta.progressToken` too), and mapped
 * back on the answer. Only what provably belongs to a request reaches its
 * client: its answer and its progress notifications. Anything else the shared
 * upstream says (log messages, list changes) belongs to no one in particular
 * and is dropped rather than shown to whichever client happens to be waiting.
 * A client that closes its response stream cancels its request
 * (`notifications/cancelled`), as the 2026-07-28 transport requires.
 */
export class StatelessBridge {
  readonly #pending = new Map<number, PendingRequest>();
  #nextId = 1;

  constructor(
    private readonly link: UpstreamLink,
    private readonly logger: Logger,
  ) {
    link.setHandshake({ protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: GATEWAY_CLIENT_INFO });
    link.onmessage = (message) => this.#fromUpstream(message);
    link.ondisconnect = (reason) => this.#failAll(reason);
    link.onclosed = (reason) => this.#failAll(reason);
  }

  handleRequest(request: Request, parsedBody: unknown): Response {
    if (request.method !== 'POST') {
      // 2026-07-28 has no GET stream and no session to DELETE.
      return jsonRpcErrorResponse(405, -32000, 'Method not allowed.', { allow: 'POST' });
    }
    if (typeof parsedBody !== 'object' || parsedBody === null || Array.isArray(parsedBody)) {
      return jsonRpcErrorResponse(400, -32600, 'Invalid Request: a stateless request carries one JSON-RPC message');
    }
    const message = parsedBody as Message;
    if (isNotification(message) || isResponse(message)) {
      // No client notifications or responses exist on 2026-07-28 Streamable HTTP; nothing to relate them to.
      this.logger.debug({ method: (message as { method?: string }).method }, 'stateless bridge: client notification or response accepted and dropped');
      return new Response(null, { status: 202 });
    }
    if (!isRequest(message)) return jsonRpcErrorResponse(400, -32600, 'Invalid Request');
    return this.#forward(message, (request.headers.get('accept') ?? '').includes('text/event-stream'));
  }

  close(): Promise<void> {
    return this.link.close();
  }

  #forward(message: Message & { id: RequestId; method: string }, sse: boolean): Response {
    const id = this.#nextId++;
    const clientProgressToken = readProgressToken(message);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let finished = false;
    const body = new ReadableStream<Uint8Array>({
      start: (streamController) => {
        controller = streamController;
      },
      cancel: () => {
        if (finished) return;
            // The client went away: that is the request's cancellation.
        this.#forget(id);
        this.link.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'The client closed the response stream' } } as Message);
      },
    });
    this.#pending.set(id, {
      clientId: message.id,
      clientProgressToken,
      write: (outgoing, final) => {
        if (finished) return;
        if (sse) controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(outgoing)}\n\n`));
        else if (final) controller.enqueue(encoder.encode(JSON.stringify(outgoing)));
        if (final) {
          finished = true;
          controller.close();
        }
      },
    });
    this.link.send(rewriteRequest(message, id, clientProgressToken === undefined ? undefined : id));
    const headers: Record<string, string> = sse
      ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' }
      : { 'content-type': 'application/json' };
    return new Response(body, { status: 200, headers });
  }

  #fromUpstream(message: Message): void {
    if (isResponse(message)) {
      const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
      if (!pending) return;
      this.#forget(message.id as number);
      pending.write({ ...message, id: pending.clientId } as Message, true);
      return;
    }
    if (isRequest(message)) {
      // The gateway declared no client capabilities on this connection.
      this.link.send(buildErrorResponse(message.id, METHOD_NOT_FOUND, 'Stateless clients of this gateway cannot answer server requests'));
      return;
    }
    const { method, params } = message as { method: string; params?: { progressToken?: unknown } };
    const token = params?.progressToken;
    const pending = method === 'notifications/progress' && typeof token === 'number' ? this.#pending.get(token) : undefined;
    if (pending && pending.clientProgressToken !== undefined) {
      pending.write({ ...message, params: { ...params, progressToken: pending.clientProgressToken } } as Message, false);
      return;
    }
    this.logger.debug({ method }, 'stateless bridge: upstream notification not tied to a request; dropped');
  }

  #forget(id: number): void {
    this.#pending.delete(id);
  }

  #failAll(reason: string): void {
    if (this.#pending.size > 0) this.logger.warn({ pending: this.#pending.size, reason }, 'stateless bridge: upstream lost; failing requests in flight');
    for (const [id, pending] of [...this.#pending]) {
      this.#forget(id);
      pending.write(buildErrorResponse(pending.clientId, INTERNAL_ERROR, 'The upstream MCP server stopped while handling this request'), true);
    }
  }
}

/** The request with the bridge's id (and progress token) in place of the client's; the client's message is not changed. */
function rewriteRequest(message: Message & { id: RequestId }, id: number, progressToken: number | undefined): Message {
  if (progressToken === undefined) return { ...message, id } as Message;
  const params = (message as { params?: Record<string, unknown> }).params ?? {};
  const meta = (params['_meta'] as Record<string, unknown> | undefined) ?? {};
  return { ...message, id, params: { ...params, _meta: { ...meta, progressToken } } } as Message;
}

export function jsonRpcErrorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
