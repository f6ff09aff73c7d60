import { GatewayError } from '../errors/index.js';
import { findAmbiguousMember } from './ambiguous-members.js';

/** JSON-RPC 2.0 ids: string, number, or null (only in error responses). */
export type JsonRpcId = string | number | null;

/** One JSON-RPC message as the gateway sees it: enough to decide, audit and answer. */
export type JsonRpcMessage =
  | { kind: 'request'; id: string | number; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: JsonRpcId };

/** A POST body: one message, or a batch (JSON array, allowed by the 2025-03-26 revision). */
export interface JsonRpcBody {
  batch: boolean;
  messages: JsonRpcMessage[];
  /** The parsed JSON as received (set by parseJsonRpcBody), for in-process upstreams (stdio, legacy SSE) that would otherwise parse it again. Read-only. */
  value?: unknown;
}

/**
 * Parses a POST body into JSON-RPC messages. The original bytes are what gets
 * forwarded; this only reads them.
 *
 * @throws GatewayError `parse_error` (not JSON) or `invalid_request` (JSON, but not JSON-RPC 2.0, or
 *   ambiguous: see `findAmbiguousMember`)
 */
export function parseJsonRpcBody(bytes: Uint8Array | string): JsonRpcBody {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new GatewayError('parse_error', { detail: 'request body is not valid JSON', cause });
  }
  // The bytes go upstream as they came: another parser must not be able to read another call in them.
  const ambiguous = findAmbiguousMember(text);
  if (ambiguous) {
    throw new GatewayError('invalid_request', { publicMessage: 'Ambiguous JSON: repeated member names, or names differing only in case', detail: ambiguous });
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new GatewayError('invalid_request', { publicMessage: 'Empty batch' });
    return { batch: true, messages: value.map(toMessage), value };
  }
  return { batch: false, messages: [toMessage(value)], value };
}

function toMessage(value: unknown): JsonRpcMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('invalid_request', { publicMessage: 'A JSON-RPC message must be an object' });
  }
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') {
    throw new GatewayError('invalid_request', { publicMessage: 'jsonrpc must be "2.0"' });
  }
  const { id, method } = message;
  if (typeof method === 'string') {
    if (id === undefined) return { kind: 'notification', method, params: message.params };
    if (!isRequestId(id)) throw new GatewayError('invalid_request', { publicMessage: 'id must be a string or a number' });
    return { kind: 'request', id, method, params: message.params };
  }
  if (method !== undefined) throw new GatewayError('invalid_request', { publicMessage: 'method must be a string' });
  if (('result' in message || 'error' in message) && (isRequestId(id) || id === null)) {
    return { kind: 'response', id };
  }
  throw new GatewayError('invalid_request', { publicMessage: 'Not a JSON-RPC request, notification or response' });
}

function isRequestId(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/** The id to echo in an error about this body: the request's id when it is a single request, else null. */
export function idForErrorReply(body: JsonRpcBody | undefined): JsonRpcId {
  if (!body || body.batch) return null;
  const [only] = body.messages;
  return only && only.kind === 'request' ? only.id : null;
}

/** Serializes a JSON-RPC 2.0 error response. */
export function buildJsonRpcError(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data };
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}
