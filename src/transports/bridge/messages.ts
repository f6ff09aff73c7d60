import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** A JSON-RPC message with the fields the bridge looks at; everything else passes untouched. */
export type Message = JSONRPCMessage;
export type { RequestId };

export function isRequest(message: Message): message is Message & { id: RequestId; method: string } {
  return 'method' in message && 'id' in message && message.id !== undefined;
}

export function isNotification(message: Message): message is Message & { method: string } {
  return 'method' in message && !('id' in message && message.id !== undefined);
}

export function isResponse(message: Message): message is Message & { id: RequestId } {
  return !('method' in message) && ('result' in message || 'error' in message);
}

/** Map key for a request id: `1` and `"1"` are different ids. */
export function requestKey(id: RequestId): string {
  return `${typeof id}:${String(id)}`;
}

/** `params._meta.progressToken` of a request, if it asked for progress. */
export function readProgressToken(message: Message): string | number | undefined {
  const params = (message as { params?: { _meta?: { progressToken?: unknown } } }).params;
  const token = params?._meta?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

export function buildErrorResponse(id: RequestId, code: number, message: string): Message {
  return { jsonrpc: '2.0', id, error: { code, message } } as Message;
}

/** JSON-RPC "internal error": what a client gets for a request its upstream could not answer. */
export const INTERNAL_ERROR = -32603;
/** JSON-RPC "method not found". */
export const METHOD_NOT_FOUND = -32601;
