import { StringDecoder } from 'node:string_decoder';
import { JsonOutcomeScanner, type ResponseOutcome } from './json-outcome-scanner.js';

/**
 * Reads the JSON-RPC outcome(s) of a response (JSON or SSE) from its body
 * chunks as they go by to the client. It is an observer, not a stream stage:
 * the forwarder hands it each chunk it reads from the upstream (a `data`
 * listener next to the pipe), so the response gets no extra Transform, buffer
 * or copy, and the tap can never hold a byte back. Other content types are not
 * read (undefined).
 */
export interface OutcomeTap {
  write(chunk: Buffer): void;
}

export function createOutcomeTap(contentType: string | undefined, onOutcome: (id: unknown, outcome: ResponseOutcome) => void): OutcomeTap | undefined {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('text/event-stream')) return new SseOutcomeTap(onOutcome);
  if (/^application\/(?:[\w.+-]+\+)?json/.test(type)) return new JsonOutcomeTap(onOutcome);
  return undefined;
}

class JsonOutcomeTap implements OutcomeTap {
  // Keeps a character split across chunks for the next one (as TextDecoder's stream mode, at half the cost per response).
  readonly #decoder = new StringDecoder('utf8');
  readonly #scanner: JsonOutcomeScanner;

  constructor(onOutcome: (id: unknown, outcome: ResponseOutcome) => void) {
    this.#scanner = new JsonOutcomeScanner(onOutcome);
  }

  write(chunk: Buffer): void {
    this.#scanner.write(this.#decoder.write(chunk));
  }
}

/**
 * SSE: only `data:` lines are JSON; each event is one document (data lines
 * joined with "\n"). Lines may end in CRLF, LF or CR and split across chunks.
 */
class SseOutcomeTap implements OutcomeTap {
  readonly #decoder = new StringDecoder('utf8');
  readonly #scanner: JsonOutcomeScanner;
  /** Field name of the current line, while it is being read (up to the colon). */
  #field = '';
  #state: 'field' | 'data' | 'skip-space' | 'other' = 'field';
  #lineHasContent = false;
  #eventHasData = false;
  #afterCr = false;

  constructor(onOutcome: (id: unknown, outcome: ResponseOutcome) => void) {
    this.#scanner = new JsonOutcomeScanner(onOutcome);
  }

  write(chunk: Buffer): void {
    const text = this.#decoder.write(chunk);
    let dataStart = -1;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (code === 10 || code === 13) {
        if (dataStart >= 0) this.#scanner.write(text.slice(dataStart, index));
        dataStart = -1;
        if (code === 10 && this.#afterCr) {
          this.#afterCr = false;
          continue;
        }
        this.#afterCr = code === 13;
        this.#endLine();
        continue;
      }
      this.#afterCr = false;
      this.#lineHasContent = true;
      if (this.#state === 'field') {
        if (code === 58) {
          this.#state = this.#field === 'data' ? 'skip-space' : 'other';
          if (this.#state === 'skip-space' && this.#eventHasData) this.#scanner.write('\n');
          if (this.#state === 'skip-space') this.#eventHasData = true;
        } else if (this.#field.length < 8) {
          this.#field += text[index];
        } else {
          this.#state = 'other';
        }
      } else if (this.#state === 'skip-space') {
        this.#state = 'data';
        if (code !== 32) dataStart = index;
      } else if (this.#state === 'data' && dataStart < 0) {
        dataStart = index;
      }
      if (this.#state === 'data' && dataStart >= 0) {
        // Inside a data line: jump to its end (a data line can be a whole tool result).
        const end = nextLineBreak(text, index);
        if (end < 0) break;
        index = end - 1;
      }
    }
    if (dataStart >= 0) this.#scanner.write(text.slice(dataStart));
  }

  #endLine(): void {
    if (!this.#lineHasContent) {
      // A blank line ends the event: its document is complete.
      this.#scanner.reset();
      this.#eventHasData = false;
    }
    this.#field = '';
    this.#state = 'field';
    this.#lineHasContent = false;
  }
}

function nextLineBreak(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (lf < 0) return cr;
  if (cr < 0) return lf;
  return lf < cr ? lf : cr;
}
