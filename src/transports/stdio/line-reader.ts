/**
 * Splits a child's stdout (or stderr) into lines, as the stdio transport
 * frames messages: "delimited by newlines, and MUST NOT contain embedded
 * newlines". A line longer than `maxLineBytes` is not buffered without bound:
 * `push` throws, and the caller ends the connection.
 */
export class LineReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** @throws LineTooLongError */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline >= 0; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      const line = this.#pendingBytes > 0 ? Buffer.concat([...this.#pending, piece]) : piece;
      this.#pending = [];
      this.#pendingBytes = 0;
      if (line.byteLength > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
      const text = line.toString('utf8');
      lines.push(text.endsWith('\r') ? text.slice(0, -1) : text);
      start = newline + 1;
    }
    if (start < chunk.byteLength) {
      const rest = chunk.subarray(start);
      this.#pendingBytes += rest.byteLength;
      if (this.#pendingBytes > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
      // Copied: the stream may reuse the chunk's memory.
      this.#pending.push(Buffer.from(rest));
    }
    return lines;
  }

  /** Bytes of the line not yet ended. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** What is left after the stream ended (a last line without a newline). */
  flush(): string | undefined {
    if (this.#pendingBytes === 0) return undefined;
    const text = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    return text;
  }
}

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
  constructor(readonly maxLineBytes: number) {
    super(`a line exceeded ${maxLineBytes} bytes`);
  }
}
