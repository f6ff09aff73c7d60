/**
 * An incremental Server-Sent Events parser (WHATWG HTML §9.2.6, "event stream
 * interpretation"): lines end in CRLF, LF or CR, possibly split across chunks;
 * `data` lines accumulate; a blank line dispatches the event; lines starting
 * with `:` are comments. It yields events and comments in stream order so a
 * transform can re-emit them in that order.
 */
export interface SseEvent {
  type: 'event';
  /** The `event:` field, if any. */
  event?: string;
  /** The `id:` field, if any. */
  id?: string;
  retry?: string;
  /** The data lines, joined with "\n"; undefined when the event had no data line. */
  data?: string;
}

export interface SseComment {
  type: 'comment';
  text: string;
}

export type SseItem = SseEvent | SseComment;

export class SseParseError extends Error {
  override readonly name = 'SseParseError';
}

export class SseParser {
  #buffer = '';
  #pendingCr = false;
  #event: SseEvent = { type: 'event' };
  #eventBytes = 0;
  #sawField = false;
  #started = false;
  readonly #maxEventBytes: number;
  readonly #decoder = new TextDecoder('utf-8');

  /** @param maxEventBytes an event larger than this is an error (a giant event is not buffered without bound) */
  constructor({ maxEventBytes }: { maxEventBytes: number }) {
    this.#maxEventBytes = maxEventBytes;
  }

  /** Feeds bytes; returns the events and comments completed by them. */
  push(chunk: Uint8Array): SseItem[] {
    let text = this.#decoder.decode(chunk, { stream: true });
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const items: SseItem[] = [];
    let start = 0;
    if (this.#pendingCr && text.startsWith('\n')) start = 1;
    this.#pendingCr = false;
    for (let index = start; index < text.length; index += 1) {
      const char = text.charCodeAt(index);
      if (char !== 10 && char !== 13) continue;
      this.#line(this.#buffer + text.slice(start, index), items);
      this.#buffer = '';
      if (char === 13) {
        if (index + 1 === text.length) this.#pendingCr = true;
        else if (text.charCodeAt(index + 1) === 10) index += 1;
      }
      start = index + 1;
    }
    this.#buffer += text.slice(start);
    if (this.#buffer.length + this.#eventBytes > this.#maxEventBytes) throw new SseParseError('SSE event exceeds the size limit');
    return items;
  }

  /** True when the stream stopped inside an event (its bytes are dropped, as the SSE spec says). */
  get hasPartialEvent(): boolean {
    return this.#sawField || this.#buffer.length > 0;
  }

  #line(line: string, items: SseItem[]): void {
    if (line === '') {
      if (this.#sawField) items.push(this.#event);
      this.#event = { type: 'event' };
      this.#eventBytes = 0;
      this.#sawField = false;
      return;
    }
    if (line.startsWith(':')) {
      items.push({ type: 'comment', text: line.slice(1) });
      return;
    }
    this.#eventBytes += line.length;
    if (this.#eventBytes > this.#maxEventBytes) throw new SseParseError('SSE event exceeds the size limit');
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.#sawField = true;
    switch (field) {
      case 'data':
        this.#event.data = this.#event.data === undefined ? value : `${this.#event.data}\n${value}`;
        break;
      case 'event':
        this.#event.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#event.id = value;
        break;
      case 'retry':
        this.#event.retry = value;
        break;
      default:
        // Unknown fields are ignored by the SSE spec.
        break;
    }
  }
}

/** Serializes an event or comment back to the wire (LF line endings). */
export function serializeSseItem(item: SseItem): string {
  if (item.type === 'comment') return `:${item.text}\n`;
  let text = '';
  if (item.event !== undefined) text += `event: ${item.event}\n`;
  if (item.id !== undefined) text += `id: ${item.id}\n`;
  if (item.retry !== undefined) text += `retry: ${item.retry}\n`;
  if (item.data !== undefined) for (const line of item.data.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
}
