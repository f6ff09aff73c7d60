/**
 * What a JSON-RPC response said, for audit: success, a tool error
 * (`result.isError: true`) or a JSON-RPC error with its code.
 */
export type ResponseOutcome = { result: 'success' } | { result: 'tool_error' } | { result: 'jsonrpc_error'; errorCode: number | undefined };

interface Frame {
  type: 'object' | 'array';
  /** The member key being read or last read (objects only). */
  key: string | undefined;
  expectKey: boolean;
}

interface MessageState {
  id: unknown;
  hasResult: boolean;
  hasError: boolean;
  errorCode: number | undefined;
  isError: boolean;
}

/**
 * Reads JSON-RPC responses out of JSON text as it streams past, without
 * keeping it: a character-level scanner that tracks strings and nesting and
 * notes only `id`, `error.code` and `result.isError` of each message (the top
 * level, or each element of a batch). Memory stays constant whatever the size
 * of the result; the text itself goes on to the client untouched.
 */
export class JsonOutcomeScanner {
  readonly #onMessage: (id: unknown, outcome: ResponseOutcome) => void;
  #stack: Frame[] = [];
  #messageDepth = 1;
  #started = false;
  #inString = false;
  #escaped = false;
  #key: string | undefined;
  #capture: { name: 'id' | 'code' | 'isError'; text: string } | undefined;
  #message: MessageState = freshMessage();

  constructor(onMessage: (id: unknown, outcome: ResponseOutcome) => void) {
    this.#onMessage = onMessage;
  }

  /** Starts over for a new JSON document (the next SSE event). */
  reset(): void {
    this.#stack = [];
    this.#messageDepth = 1;
    this.#started = false;
    this.#inString = false;
    this.#escaped = false;
    this.#key = undefined;
    this.#capture = undefined;
    this.#message = freshMessage();
  }

  write(text: string): void {
    for (let index = 0; index < text.length; index += 1) {
      if (this.#inString) {
        if (this.#capture === undefined && !this.#escaped) {
          // Jump to the string's next quote or backslash: the body of a value string (most of a
          // tool result) matters only for where it ends, and a member name is taken in one
          // slice rather than a character at a time.
          const stop = nextQuoteOrBackslash(text, index);
          if (stop < 0) {
            if (this.#key !== undefined) this.#key += text.slice(index);
            return;
          }
          if (this.#key !== undefined && stop > index) this.#key += text.slice(index, stop);
          index = stop;
        }
        this.#stringChar(text.charCodeAt(index), text, index);
        continue;
      }
      const code = text.charCodeAt(index);
      if (code <= 32) continue;
      const top = this.#stack[this.#stack.length - 1];
      switch (code) {
        case 34: // "
          this.#inString = true;
          if (top?.type === 'object' && top.expectKey) this.#key = '';
          else if (this.#capture) this.#capture.text += '"';
          break;
        case 123: // {
        case 91: // [
          this.#finishValue();
          if (!this.#started) {
            this.#started = true;
            this.#messageDepth = code === 91 ? 2 : 1;
          }
          this.#stack.push({ type: code === 123 ? 'object' : 'array', key: undefined, expectKey: code === 123 });
          if (code === 123 && this.#stack.length === this.#messageDepth) this.#message = freshMessage();
          break;
        case 125: // }
        case 93: // ]
          this.#finishValue();
          if (code === 125 && this.#stack.length === this.#messageDepth) this.#emit();
          this.#stack.pop();
          break;
        case 58: // :
          if (top?.type === 'object') {
            top.expectKey = false;
            this.#beginValue(top);
          }
          break;
        case 44: // ,
          this.#finishValue();
          if (top?.type === 'object') top.expectKey = true;
          break;
        default:
          if (this.#capture) this.#capture.text += text[index];
      }
    }
  }

  #stringChar(code: number, text: string, index: number): void {
    if (this.#key !== undefined) {
      if (this.#escaped) this.#escaped = false;
      else if (code === 92) this.#escaped = true;
      else if (code === 34) {
        this.#inString = false;
        const top = this.#stack[this.#stack.length - 1]!;
        top.key = this.#key;
        this.#key = undefined;
        return;
      }
      this.#key += text[index];
      return;
    }
    if (this.#capture) this.#capture.text += text[index];
    if (this.#escaped) this.#escaped = false;
    else if (code === 92) this.#escaped = true;
    else if (code === 34) this.#inString = false;
  }

  /** After a `:`: decide whether this member's value is one to note. */
  #beginValue(frame: Frame): void {
    const depth = this.#stack.length;
    if (depth === this.#messageDepth) {
      if (frame.key === 'id') this.#capture = { name: 'id', text: '' };
      else if (frame.key === 'result') this.#message.hasResult = true;
      else if (frame.key === 'error') this.#message.hasError = true;
      return;
    }
    if (depth === this.#messageDepth + 1) {
      const parentKey = this.#stack[depth - 2]?.key;
      if (parentKey === 'error' && frame.key === 'code') this.#capture = { name: 'code', text: '' };
      else if (parentKey === 'result' && frame.key === 'isError') this.#capture = { name: 'isError', text: '' };
    }
  }

  #finishValue(): void {
    const capture = this.#capture;
    if (!capture) return;
    this.#capture = undefined;
    let value: unknown;
    try {
      value = JSON.parse(capture.text);
    } catch {
      return;
    }
    if (capture.name === 'id') this.#message.id = value;
    else if (capture.name === 'code') this.#message.errorCode = typeof value === 'number' ? value : undefined;
    else this.#message.isError = value === true;
  }

  #emit(): void {
    const message = this.#message;
    if (!message.hasResult && !message.hasError) return;
    const outcome: ResponseOutcome = message.hasError
      ? { result: 'jsonrpc_error', errorCode: message.errorCode }
      : message.isError
        ? { result: 'tool_error' }
        : { result: 'success' };
    this.#onMessage(message.id, outcome);
  }
}

function freshMessage(): MessageState {
  return { id: undefined, hasResult: false, hasError: false, errorCode: undefined, isError: false };
}

function nextQuoteOrBackslash(text: string, from: number): number {
  const quote = text.indexOf('"', from);
  const backslash = text.indexOf('\\', from);
  if (quote < 0) return backslash;
  if (backslash < 0) return quote;
  return quote < backslash ? quote : backslash;
}
