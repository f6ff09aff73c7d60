import { Transform, type TransformCallback } from 'node:stream';
import { buildJsonRpcError, type JsonRpcId } from '../jsonrpc/index.js';
import { serializeSseItem, SseParser, type SseItem } from '../sse/index.js';
import { LIST_METHODS, type CompiledPolicy, type ListMethod } from './compiled-policy.js';
import type { Caller } from './rule.js';

/** Which list responses to filter: by request id (a POST), or every list-shaped response (a GET stream, where a resumed stream may replay one). */
export type ListResponseSelector = { byId: ReadonlyMap<string, ListMethod> } | { byShape: true };

export interface ListFilterOptions {
  policy: CompiledPolicy;
  caller: Caller;
  selector: ListResponseSelector;
  /** Largest JSON body or SSE event buffered for filtering, in bytes. */
  maxBytes: number;
  /** Told about each piece of upstream output that was dropped because it could not be filtered. */
  onDrop?: (reason: string) => void;
  /** Sees every `tools/list` result in full, before filtering (to learn `x-mcp-header` annotations). */
  onToolsListed?: (tools: readonly unknown[]) => void;
}

export function idKey(id: JsonRpcId): string {
  return `${typeof id}:${String(id)}`;
}

/**
 * Chooses how to filter a response, from its status and headers, or nothing.
 * Fail closed: a response to a list request that is not plain JSON or SSE
 * (another type, or compressed) is replaced by a JSON-RPC error, never passed
 * through. Error statuses are filtered too: a 4xx/5xx body can carry a list
 * result as well as a 200 can. Only bodyless statuses pass untouched. May
 * adjust `headers` (content type, length).
 */
export function createListFilter(
  status: number,
  headers: Record<string, string | string[]>,
  options: ListFilterOptions,
): Transform | undefined {
  if (status < 200 || status === 202 || status === 204 || status === 304) return undefined;
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
  delete headers['content-length'];
  if (encoding === 'identity' && contentType.startsWith('text/event-stream')) return new SseListFilter(options);
  if (encoding === 'identity' && /^application\/(?:[\w.+-]+\+)?json/.test(contentType)) return new JsonListFilter(options);
  options.onDrop?.(`list response with content-type ${contentType || 'none'} and encoding ${encoding} cannot be filtered`);
  delete headers['content-encoding'];
  headers['content-type'] = 'application/json';
  return new ReplaceWithError(options);
}

/** Filters list results inside one parsed JSON-RPC payload (a message or a batch); returns it changed in place. */
function filterPayload(payload: unknown, options: ListFilterOptions): unknown {
  if (Array.isArray(payload)) {
    for (const message of payload) filterMessage(message, options);
  } else {
    filterMessage(payload, options);
  }
  return payload;
}

function filterMessage(message: unknown, { policy, caller, selector, onToolsListed }: ListFilterOptions): void {
  if (typeof message !== 'object' || message === null) return;
  const { id, result } = message as { id?: JsonRpcId; result?: unknown };
  if (typeof result !== 'object' || result === null) return;
  // A response to one of our list requests is filtered as that list; any other
  // response that carries a list (an id the upstream changed, a replay on a
  // resumed stream) is filtered by its shape. Nothing list-shaped passes unfiltered.
  const byId = 'byId' in selector ? selector.byId.get(idKey(id ?? null)) : undefined;
  const methods = byId ? [byId] : (Object.keys(LIST_METHODS) as ListMethod[]);
  for (const method of methods) {
    const key = LIST_METHODS[method].key;
    const list = (result as Record<string, unknown>)[key];
    if (Array.isArray(list)) {
      if (method === 'tools/list') onToolsListed?.(list);
      if (policy.permissive) continue;
      (result as Record<string, unknown>)[key] = list.filter((item) => policy.isListed(method, item, caller));
    } else if (byId && key in result) {
      // A list response whose list is not a list: nothing trustworthy to show.
      (result as Record<string, unknown>)[key] = [];
    }
  }
}

function firstListId(selector: ListResponseSelector): JsonRpcId {
  if (!('byId' in selector)) return null;
  const [key] = selector.byId.keys();
  if (!key) return null;
  const [type, ...rest] = key.split(':');
  const value = rest.join(':');
  return type === 'number' ? Number(value) : value;
}

function unfilterableError(options: ListFilterOptions): string {
  return buildJsonRpcError(firstListId(options.selector), -32603, 'The upstream list response could not be filtered by the gateway');
}

/** A JSON body: buffered (lists are bounded), filtered, re-serialized. */
class JsonListFilter extends Transform {
  #chunks: Buffer[] = [];
  #size = 0;
  #overflow = false;

  constructor(private readonly options: ListFilterOptions) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.byteLength;
    if (this.#size > this.options.maxBytes) this.#overflow = true;
    else this.#chunks.push(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#overflow) {
      this.options.onDrop?.('list response larger than the filter limit');
      callback(null, unfilterableError(this.options));
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.concat(this.#chunks, this.#size).toString('utf8'));
    } catch {
      this.options.onDrop?.('list response is not valid JSON');
      callback(null, unfilterableError(this.options));
      return;
    }
    callback(null, JSON.stringify(filterPayload(payload, this.options)));
  }
}

/**
 * An SSE body: events are parsed as they arrive; notifications and other
 * messages pass at once (nothing unrelated is held back), list responses are
 * filtered, and an event whose data is not JSON is dropped, never forwarded
 * (empty data, as in a priming event, is no message and passes).
 */
class SseListFilter extends Transform {
  readonly #parser: SseParser;

  constructor(private readonly options: ListFilterOptions) {
    super();
    this.#parser = new SseParser({ maxEventBytes: options.maxBytes });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let items: SseItem[];
    try {
      items = this.#parser.push(chunk);
    } catch (error) {
      this.options.onDrop?.((error as Error).message);
      callback(error as Error);
      return;
    }
    let output = '';
    for (const item of items) output += this.#render(item);
    callback(null, output.length > 0 ? output : undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#parser.hasPartialEvent) this.options.onDrop?.('stream ended inside an SSE event');
    callback();
  }

  #render(item: SseItem): string {
    // An event without data carries no message: comments, and the priming event
    // (`id` and `retry`, empty data) a resumable server sends first (2025-11-25).
    if (item.type === 'comment' || item.data === undefined || item.data === '') return serializeSseItem(item);
    let payload: unknown;
    try {
      payload = JSON.parse(item.data);
    } catch {
      this.options.onDrop?.('SSE event data is not JSON');
      return '';
    }
    return serializeSseItem({ ...item, data: JSON.stringify(filterPayload(payload, this.options)) });
  }
}

/** Discards an unfilterable body and answers with a JSON-RPC error instead. */
class ReplaceWithError extends Transform {
  constructor(private readonly options: ListFilterOptions) {
    super();
  }

  override _transform(_chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(null, unfilterableError(this.options));
  }
}
