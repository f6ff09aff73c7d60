import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal, SubjectToken } from '../../auth/index.js';
import type { JsonRpcBody } from '../../jsonrpc/index.js';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import type { CallIdentities } from '../../upstream-auth/index.js';
import type { RequestObservation } from './observation.js';

/**
 * One request to the MCP endpoint on its way through the steps of
 * `mcp-endpoint.ts`: the node:http request and response (forwarded without
 * copies) and what each step has learned, for the steps after it and for the
 * audit record. Fields are set in pipeline order; each says which step sets it.
 */
export interface McpExchange {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  /** The HTTP method: POST, GET or DELETE. */
  readonly method: string;
  /** Audit, metrics and trace of this request (set first). */
  readonly observation: RequestObservation;
  /** CORS headers for an allowed browser origin, added to whatever response follows (guardOrigin). */
  corsHeaders?: Record<string, string>;
  /** The authenticated caller (authenticate). */
  principal?: Principal;
  /** The caller's verified token; only token exchange may reveal it, to the AS (authenticate). */
  subjectToken?: SubjectToken;
  /** The POST body bytes, forwarded as received (readJsonRpc). */
  rawBody?: Buffer;
  /** The parsed POST body (readJsonRpc). */
  rpcBody?: JsonRpcBody;
  /** The policy in force when the request arrived; the whole request uses it (authorize). */
  policy?: CompiledPolicy;
  /** One decision per JSON-RPC message of the POST body (authorize). */
  decisions?: Decision[];
  /** The upstream's session id behind the client's bound one (checkSession). */
  upstreamSessionId?: string;
  /** User, agent and service credential of the forwarded call, set before forwarding (forward). */
  upstreamIdentities?: CallIdentities;
  /** What ended the request when the gateway answered itself (the endpoint's error handler). */
  error?: unknown;
}

/** A request header; node joins repeated ones with ", " except those it de-duplicates. */
export function headerOf(incoming: IncomingMessage, name: Lowercase<string>): string | undefined {
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function readHeader(exchange: McpExchange, name: Lowercase<string>): string | undefined {
  return headerOf(exchange.incoming, name);
}

/** The raw request target's query string, including the leading `?`, or ''. */
export function readSearch(exchange: McpExchange): string {
  const url = exchange.incoming.url ?? '';
  const index = url.indexOf('?');
  return index >= 0 ? url.slice(index) : '';
}
