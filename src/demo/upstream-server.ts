/**
 * A real, unmodified MCP server (official SDK) that plays the upstream behind the gateway in
 * `npm run demo` and in integration tests. It speaks both protocol eras on one endpoint and records
 * every HTTP request it receives, so tests can prove what the gateway did or did not forward
 * (e.g. that no user token ever reached the upstream).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import {
  createCallerVerifier,
  type BearerJwtRequirement,
  type IdentityJwtRequirement,
  type VerifiedCaller,
} from './upstream-verification.js';

export interface DemoUpstreamOptions {
  /** TCP port; default 0 (any free port). The host is always 127.0.0.1. */
  port?: number;
  /** MCP endpoint path; default '/mcp'. Other paths get 404. */
  path?: string;
  /**
   * Service credential the upstream requires, e.g. `{ header: 'x-api-key', value: 'k' }` or
   * `{ header: 'authorization', value: 'Bearer svc' }`. Absent → no auth. Wrong/missing → 401 JSON.
   */
  requiredCredential?: { header: string; value: string };
  /**
   * Require `Authorization: Bearer <JWT>` from an authorization server (client credentials or
   * token exchange), verified with jose against its JWKS for this audience. Wrong/missing → 401
   * with a `WWW-Authenticate` challenge (which the gateway must never pass on).
   */
  requireBearerJwt?: BearerJwtRequirement;
  /** Require the gateway-signed identity JWT in a header, verified against the gateway's JWKS. */
  verifyIdentityJwt?: IdentityJwtRequirement;
  /**
   * Serve HTTPS with this certificate and key (PEM). With `requestClientCertificate`, only
   * clients presenting a certificate issued by `ca` are accepted (mutual TLS).
   */
  tls?: { cert: string; key: string; ca?: string; requestClientCertificate?: boolean };
  /** Answer requests with one JSON body instead of an SSE stream (SDK `enableJsonResponse`); default false. */
  jsonResponse?: boolean;
}

export interface SeenRequest {
  method: string;
  /** Request target as received, query string included (so tests can see a token smuggled there). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it was not JSON; absent when the request had no body. */
  body?: unknown;
  /** What the upstream verified about the caller (bearer JWT claims, identity JWT, client certificate). */
  verified: VerifiedCaller;
}

export interface DemoUpstream {
  /** e.g. http://127.0.0.1:PORT/mcp (https:// with `tls`) */
  url: string;
  /** Every HTTP request received, in order, recorded before the credential check. */
  seen: SeenRequest[];
  /** Refuse the bearer token with this `jti` from now on, as after a revocation at the upstream. */
  revokeToken(jti: string): void;
  close(): Promise<void>;
}

/** Versions answered statelessly (no initialize, no session) per the 2026-07-28 transport. */
const STATELESS_PROTOCOL_VERSIONS: ReadonlySet<string> = new Set(['2026-07-28']);
/** JSON-RPC code the 2026-07-28 spec assigns to "headers do not match the body". */
const HEADER_MISMATCH_CODE = -32020;
/** Bodies above this are refused; the demo tools never need more. */
const MAX_BODY_BYTES = 1024 * 1024;
const SLOW_PROGRESS_MAX_STEPS = 1000;
const SLOW_PROGRESS_MAX_INTERVAL_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Ticketing domain: shared by every session so a ticket created in one is visible in another.
// ---------------------------------------------------------------------------------------------

interface Ticket { id: string; title: string; body: string }

interface TicketStore { tickets: Map<string, Ticket>; nextId: number }

function createTicketStore(): TicketStore {
  const seed: Ticket[] = [
    { id: 'T-1', title: 'Login page is slow', body: 'Takes 8 s to render on mobile.' },
    { id: 'T-2', title: 'Typo in invoice footer', body: '"Thnak you" should read "Thank you".' },
  ];
  return { tickets: new Map(seed.map((t) => [t.id, t])), nextId: seed.length + 1 };
}

function buildText(text: string) {
  return { content: [{ type: 'text' as const, text }] };
}

function buildError(text: string) {
  return { ...buildText(text), isError: true };
}

/** Resolves after `ms`, or early on abort (the client cancelled or closed the stream). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // Removed on timeout so a long loop does not pile listeners onto one signal.
    const onAbort = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One McpServer per session / per stateless request: an SDK server binds to a single transport. */
function createTicketServer(store: TicketStore): McpServer {
  const server = new McpServer({ name: 'demo-ticket-upstream', version: '0.1.0' });
  registerTicketTools(server, store);
  registerUtilityTools(server);
  registerPromptsAndResources(server, store);
  return server;
}

/** Tools named after the policy scopes used in the examples: tickets:read, tickets:write, admin. */
function registerTicketTools(server: McpServer, store: TicketStore): void {
  server.registerTool('list_tickets', {
    description: 'List all tickets (scope tickets:read).',
    annotations: { readOnlyHint: true },
  }, async function listTickets() {
    return buildText(JSON.stringify([...store.tickets.values()]));
  });

  server.registerTool('get_ticket', {
    description: 'Get one ticket by id (scope tickets:read).',
    // 2026-07-28 clients mirror this argument into an `Mcp-Param-Ticket-Id` header.
    inputSchema: { id: z.string().meta({ 'x-mcp-header': 'Ticket-Id' }) },
    annotations: { readOnlyHint: true },
  }, async function getTicket({ id }) {
    const ticket = store.tickets.get(id);
    return ticket ? buildText(JSON.stringify(ticket)) : buildError(`No ticket ${id}`);
  });

  server.registerTool('create_ticket', {
    description: 'Create a ticket (scope tickets:write).',
    inputSchema: { title: z.string().min(1), body: z.string().optional() },
  }, async function createTicket({ title, body }) {
    const ticket = { id: `T-${store.nextId++}`, title, body: body ?? '' };
    store.tickets.set(ticket.id, ticket);
    return buildText(JSON.stringify(ticket));
  });

  server.registerTool('admin_delete_ticket', {
    description: 'Delete a ticket (scope admin).',
    inputSchema: { id: z.string() },
    annotations: { destructiveHint: true },
  }, async function adminDeleteTicket({ id }) {
    return store.tickets.delete(id) ? buildText(`Deleted ${id}`) : buildError(`No ticket ${id}`);
  });
}

function registerUtilityTools(server: McpServer): void {
  server.registerTool('echo', {
    description: 'Return the text unchanged.',
    inputSchema: { text: z.string() },
  }, async function echo({ text }) {
    return buildText(text);
  });

  server.registerTool('fail_tool', {
    description: 'Always fails with a tool-level error (isError: true), not a JSON-RPC error.',
  }, async function failTool() {
    return buildError('fail_tool always fails');
  });

  // Sends one notifications/progress per step before returning, so a test can prove that SSE
  // events pass through the gateway as they happen instead of being buffered until the end.
  server.registerTool('slow_progress', {
    description: 'Emit progress notifications every intervalMs for steps steps, then return.',
    inputSchema: {
      steps: z.number().int().min(1).max(SLOW_PROGRESS_MAX_STEPS).optional(),
      intervalMs: z.number().int().min(0).max(SLOW_PROGRESS_MAX_INTERVAL_MS).optional(),
    },
  }, async function slowProgress({ steps = 10, intervalMs = 100 }, extra) {
    const progressToken = extra._meta?.progressToken;
    for (let step = 1; step <= steps && !extra.signal.aborted; step++) {
      await sleep(intervalMs, extra.signal);
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress: step, total: steps, message: `step ${step}/${steps}` },
        });
      }
    }
    return buildText(`completed ${steps} steps`);
  });
}

function registerPromptsAndResources(server: McpServer, store: TicketStore): void {
  server.registerPrompt('summarize_ticket', {
    description: 'Ask the model to summarize a ticket.',
    argsSchema: { id: z.string() },
  }, function summarizeTicket({ id }) {
    const ticket = store.tickets.get(id);
    const text = ticket
      ? `Summarize this ticket in one sentence:\n${ticket.title}\n\n${ticket.body}`
      : `Ticket ${id} does not exist; say so.`;
    return { messages: [{ role: 'user', content: { type: 'text', text } }] };
  });

  server.registerResource('ticket', new ResourceTemplate('tickets://{id}', {
    list: function listTicketResources() {
      return {
        resources: [...store.tickets.values()].map((t) => ({ uri: `tickets://${t.id}`, name: t.title })),
      };
    },
  }), { description: 'One ticket as JSON.', mimeType: 'application/json' }, function readTicket(uri, { id }) {
    const ticket = store.tickets.get(String(id));
    if (!ticket) throw new Error(`No ticket ${String(id)}`);
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(ticket) }] };
  });

  server.registerResource('readme', 'docs://readme', {
    description: 'About this demo server.', mimeType: 'text/markdown',
  }, function readReadme(uri) {
    const text = '# Demo ticket upstream\nAn unmodified MCP server that the gateway protects.';
    return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text }] };
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

function readHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

type BodyResult = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'text'; value: string } | { kind: 'too-large' };

async function readBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { kind: 'too-large' };
    chunks.push(chunk);
  }
  if (size === 0) return { kind: 'none' };
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { kind: 'text', value: text };
  }
}

/** Decodes the `=?base64?…?=` form that 2026-07-28 allows in Mcp-Name / Mcp-Param-* values. */
function decodeMcpHeaderValue(value: string): string {
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  return match?.[1] !== undefined ? Buffer.from(match[1], 'base64').toString('utf8') : value;
}

/** The body field that `Mcp-Name` mirrors for a method, per the 2026-07-28 transport. */
function readNamedTarget(method: string, params: Record<string, unknown>): unknown {
  if (method === 'tools/call' || method === 'prompts/get') return params['name'];
  if (method === 'resources/read') return params['uri'];
  return undefined;
}

/**
 * 2026-07-28: "Servers that process the request body MUST reject requests where the values specified
 * in the headers do not match". Absent headers are tolerated (this is a lenient demo upstream); present
 * but different ones are rejected, so tests can prove the gateway forwards them untouched.
 */
function findHeaderMismatch(req: IncomingMessage, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a single JSON-RPC message';
  const message = body as { method?: unknown; params?: unknown };
  const method = typeof message.method === 'string' ? message.method : undefined;
  const headerMethod = readHeader(req, 'mcp-method');
  if (headerMethod !== undefined && headerMethod !== method) return 'Mcp-Method does not match the body';
  const headerName = readHeader(req, 'mcp-name');
  if (headerName === undefined || method === undefined) return undefined;
  const params = typeof message.params === 'object' && message.params !== null ? message.params as Record<string, unknown> : {};
  return decodeMcpHeaderValue(headerName) === readNamedTarget(method, params) ? undefined : 'Mcp-Name does not match the body';
}

/**
 * The SDK 1.32 transport only knows versions up to 2025-11-25 and answers `MCP-Protocol-Version:
 * 2026-07-28` with 400, and insists on an Accept listing both JSON and SSE. We hand it a copy of the
 * request with the newest version it knows (and a complete Accept); the body is passed pre-parsed,
 * so nothing else changes. The SDK server itself does not require `initialize` before `tools/call`.
 */
function buildSdkCompatibleRequest(webRequest: Request): Request {
  const headers = new Headers(webRequest.headers);
  headers.set('mcp-protocol-version', LATEST_PROTOCOL_VERSION);
  headers.set('accept', 'application/json, text/event-stream');
  return new Request(webRequest.url, { method: webRequest.method, headers });
}

/** Starts the demo upstream on 127.0.0.1. Resolves once it is listening. */
export async function startDemoUpstream(opts: DemoUpstreamOptions = {}): Promise<DemoUpstream> {
  const { port = 0, path = '/mcp', requiredCredential, requireBearerJwt, verifyIdentityJwt, tls, jsonResponse = false } = opts;
  if (requiredCredential && (!requiredCredential.header || !requiredCredential.value)) {
    throw new TypeError('"requiredCredential" needs a non-empty header and value, e.g. { header: "x-api-key", value: "k" }');
  }
  const callers = createCallerVerifier({ requiredCredential, requireBearerJwt, verifyIdentityJwt });
  const store = createTicketStore();
  const seen: SeenRequest[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  /** Every live McpServer (sessions and in-flight stateless calls), closed by close(). */
  const servers = new Set<McpServer>();

  async function connectServer(transport: StreamableHTTPServerTransport | WebStandardStreamableHTTPServerTransport): Promise<McpServer> {
    const server = createTicketServer(store);
    servers.add(server);
    server.server.onclose = () => servers.delete(server);
    await server.connect(transport);
    return server;
  }

  /** 2025-11-25: `initialize` without a session opens one; its transport then serves that id. */
  async function startSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: jsonResponse,
      onsessioninitialized: (id) => { sessions.set(id, transport); },
      onsessionclosed: (id) => { sessions.delete(id); },
    });
    await connectServer(transport);
    await transport.handleRequest(req, res, body);
  }

  /** 2026-07-28: a fresh server and transport answer one POST and are dropped when it ends. */
  async function handleStateless(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const mismatch = findHeaderMismatch(req, body);
    if (mismatch) return sendJsonRpcError(res, 400, HEADER_MISMATCH_CODE, `Header mismatch: ${mismatch}`);
    const clientAcceptsSse = readHeader(req, 'accept')?.includes('text/event-stream') ?? false;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: jsonResponse || !clientAcceptsSse,
    });
    const server = await connectServer(transport);
    res.on('close', () => { void server.close(); });
    const listener = getRequestListener(
      (webRequest) => transport.handleRequest(buildSdkCompatibleRequest(webRequest), { parsedBody: body }),
      { overrideGlobalObjects: false },
    );
    await listener(req, res);
  }

  async function routeMcpRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const sessionId = readHeader(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const transport = sessions.get(sessionId);
      if (!transport) return sendJsonRpcError(res, 404, -32001, 'Session not found');
      return transport.handleRequest(req, res, body);
    }
    const version = readHeader(req, 'mcp-protocol-version');
    if (req.method === 'POST' && isInitializeRequest(body)) return startSession(req, res, body);
    if (version !== undefined && STATELESS_PROTOCOL_VERSIONS.has(version)) {
      if (req.method === 'POST') return handleStateless(req, res, body);
      // 2026-07-28 has no GET listen stream and no sessions to DELETE.
      res.setHeader('allow', 'POST');
      return sendJsonRpcError(res, 405, -32000, 'Method not allowed.');
    }
    return sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  }

  async function handleHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const caller = await callers.check(req);
    const record: SeenRequest = { method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, verified: caller.verified };
    if (body.kind === 'json' || body.kind === 'text') record.body = body.value;
    seen.push(record);

    if (!caller.ok) {
      return sendJson(res, 401, { error: 'unauthorized', error_description: caller.reason }, {
        'www-authenticate': 'Bearer error="invalid_token", resource_metadata="http://upstream.invalid/prm"',
      });
    }
    if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== path) {
      return sendJson(res, 404, { error: 'not_found' });
    }
    if (body.kind === 'too-large') return sendJsonRpcError(res, 413, -32000, 'Request body too large');
    if (body.kind === 'text') return sendJsonRpcError(res, 400, -32700, 'Parse error: Invalid JSON');
    return routeMcpRequest(req, res, body.kind === 'json' ? body.value : undefined);
  }

  const onRequest = function onRequest(req: IncomingMessage, res: ServerResponse) {
    handleHttpRequest(req, res).catch(function onHandlerError(error: unknown) {
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
  const httpServer: Server = tls
    ? createHttpsServer({
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca ? { ca: tls.ca } : {}),
        requestCert: tls.requestClientCertificate ?? false,
        rejectUnauthorized: tls.requestClientCertificate ?? false,
      }, onRequest)
    : createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, '127.0.0.1', () => { httpServer.off('error', reject); resolve(); });
  });
  const { port: boundPort } = httpServer.address() as AddressInfo;

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${boundPort}${path}`,
    seen,
    revokeToken: callers.revokeToken,
    async close() {
      await Promise.allSettled([...servers].map((server) => server.close()));
      sessions.clear();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await closed;
    },
  };
}
