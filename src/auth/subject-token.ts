import { inspect } from 'node:util';
import { hashToken } from './token-cache.js';

/**
 * The caller's verified access token, held for the one place allowed to send it anywhere: the
 * RFC 8693 token exchange, where it goes to the authorization server as `subject_token`. It never
 * goes upstream, into a log, an error or an audit record: the value is in a private field, so
 * `JSON.stringify`, `util.inspect`, spreading and pino all see `[redacted]` or nothing.
 */
export class SubjectToken {
  readonly #value: string;
  #hash: string | undefined;

  constructor(value: string) {
    this.#value = value;
  }

  /** The token itself. Call only to build the token exchange request. */
  reveal(): string {
    return this.#value;
  }

  /** SHA-256 of the token, base64url: a cache key that is not the token. */
  get hash(): string {
    this.#hash ??= hashToken(this.#value);
    return this.#hash;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'SubjectToken [redacted]';
  }
}
