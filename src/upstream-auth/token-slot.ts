import type { IssuedToken } from './token-endpoint.js';

export interface TokenSlotOptions {
  /** Renew this long before expiry (capped at half the token's lifetime), in ms. */
  refreshBeforeExpiryMs: number;
  /** Minimum time between two renewals caused by the upstream refusing a token, in ms. */
  rejectionRenewalCooldownMs: number;
  now: () => number;
  /** A background renewal failed; the cached token is still valid and still used. */
  onBackgroundFailure: (error: unknown) => void;
}

/**
 * One cached token with single-flight renewal: however many requests need it at once, at most
 * one token request is in flight. A token is reused until its refresh time; between that and its
 * expiry it is still used while one background renewal runs (so a slow or down authorization
 * server does not delay requests while the token is valid); after expiry requests wait for the
 * renewal. The fetch function is passed per call, so the slot never holds a user token.
 */
export class TokenSlot {
  #current: IssuedToken | undefined;
  #pending: Promise<IssuedToken> | undefined;
  #renewedAfterRejection: { token: IssuedToken; atMs: number } | undefined;
  readonly #options: TokenSlotOptions;

  constructor(options: TokenSlotOptions) {
    this.#options = options;
  }

  /** The cached token when one is valid, without renewing. */
  get current(): IssuedToken | undefined {
    return this.#current && this.#options.now() < this.#current.expiresAtMs ? this.#current : undefined;
  }

  get(fetchToken: () => Promise<IssuedToken>): Promise<IssuedToken> {
    const token = this.#current;
    const now = this.#options.now();
    if (token && now < this.#refreshAtMs(token)) return Promise.resolve(token);
    if (token && now < token.expiresAtMs) {
      this.#renew(fetchToken).catch(this.#options.onBackgroundFailure);
      return Promise.resolve(token);
    }
    return this.#renew(fetchToken);
  }

  /**
   * The upstream refused `rejected`: returns a fresh token to retry with once, or undefined
   * when renewing cannot help (the token was itself just renewed after a refusal). Concurrent
   * refusals of the same token share one renewal.
   */
  async renewAfterRejection(rejected: IssuedToken, fetchToken: () => Promise<IssuedToken>): Promise<IssuedToken | undefined> {
    if (this.#current !== rejected) {
      // Already replaced (or being replaced) by another request: use that one.
      return this.#pending ?? this.get(fetchToken);
    }
    const last = this.#renewedAfterRejection;
    if (last?.token === rejected && this.#options.now() - last.atMs < this.#options.rejectionRenewalCooldownMs) return undefined;
    this.#current = undefined;
    const renewed = await this.#renew(fetchToken);
    this.#renewedAfterRejection = { token: renewed, atMs: this.#options.now() };
    return renewed;
  }

  /** Drops the cached token (the next `get` fetches). */
  clear(): void {
    this.#current = undefined;
  }

  #renew(fetchToken: () => Promise<IssuedToken>): Promise<IssuedToken> {
    this.#pending ??= fetchToken()
      .then((token) => {
        this.#current = token;
        return token;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  #refreshAtMs(token: IssuedToken): number {
    const lifetimeMs = token.expiresAtMs - token.obtainedAtMs;
    return token.expiresAtMs - Math.min(this.#options.refreshBeforeExpiryMs, lifetimeMs / 2);
  }
}
