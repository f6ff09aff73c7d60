import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import { GatewayError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { discoverJwksUri, type FetchLike } from './issuer-metadata.js';
import { RetrySchedule, startupRetryDelayMs } from './retry-schedule.js';

export interface IssuerKeysOptions {
  issuer: string;
  /** JWKS URL; discovered from the issuer's metadata when absent. */
  jwksUri?: string;
  timeoutMs: number;
  /** Minimum time between refetches caused by an unknown `kid`, in ms. */
  cooldownMs: number;
  /** Background refresh period, in ms. */
  refreshIntervalMs: number;
  logger: Logger;
  fetch?: FetchLike;
  now?: () => number;
  /** Told after every JWKS fetch attempt (metrics). */
  onRefresh?: (issuer: string, ok: boolean) => void;
}

export type IssuerKeysState = { status: 'pending' | 'ready'; jwksUri?: string; lastError?: string };

/**
 * The signing keys of one authorization server.
 *
 * jose's remote JWKS does the caching, the single-flight reload and the cooldown
 * on unknown `kid`s; this adds what a gateway needs around it:
 * - `cacheMaxAge: Infinity` plus a background refresh, so an unreachable JWKS
 *   never makes known keys stop working (jose would otherwise refetch on the
 *   request path once the cache is stale, and fail the request);
 * - a failure cooldown, so a stream of unknown `kid`s while the JWKS is down
 *   gets fast 401s instead of one slow fetch attempt each;
 * - start-up with retries and a readiness state (`/readyz`).
 */
export class IssuerKeys {
  readonly issuer: string;
  #options: IssuerKeysOptions;
  #jwksUri: string | undefined;
  #remote: RemoteJWKSet | undefined;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #lastError: string | undefined;
  #ready: Promise<void>;
  #markReady!: () => void;
  #timers = new RetrySchedule();

  constructor(options: IssuerKeysOptions) {
    this.issuer = options.issuer;
    this.#options = options;
    this.#jwksUri = options.jwksUri;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  get state(): IssuerKeysState {
    return {
      status: this.#remote?.jwks() ? 'ready' : 'pending',
      ...(this.#jwksUri ? { jwksUri: this.#jwksUri } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Resolves once the keys were fetched once. */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Discovers and fetches the keys, retrying with backoff until it works; then refreshes in the background. */
  start(): void {
    void this.#initialize(0);
  }

  stop(): void {
    this.#timers.stop();
  }

  /** Fetches the JWKS now (used by the background refresh and by tests). */
  async refresh(): Promise<void> {
    const remote = await this.#ensureRemote();
    try {
      await remote.reload();
      this.#lastError = undefined;
      this.#options.onRefresh?.(this.issuer, true);
    } catch (error) {
      this.#recordFailure(error);
      this.#options.onRefresh?.(this.issuer, false);
      throw error;
    }
  }

  /** jose key resolver for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const remote = this.#remote;
    if (!remote) {
      throw new GatewayError('token_invalid', { tokenRejection: 'keys_unavailable', detail: `keys of ${this.issuer} not loaded yet` });
    }
    const loaded = remote.jwks();
    const known = loaded?.keys.some((key) => key.kid === header.kid) ?? false;
    const now = this.#now();
    if (!known && header.kid !== undefined && now - this.#lastFailureAt < this.#options.cooldownMs) {
      // Never loaded: every token fails for want of keys, which is what operators alert on.
      throw new GatewayError('token_invalid', {
        tokenRejection: loaded ? 'unknown_key' : 'keys_unavailable',
        detail: `unknown kid while the JWKS of ${this.issuer} is unreachable`,
      });
    }
    try {
      return await remote(header, token);
    } catch (error) {
      if (isFetchFailure(error)) {
        this.#recordFailure(error);
        throw new GatewayError('token_invalid', { tokenRejection: 'keys_unavailable', cause: error, detail: `JWKS of ${this.issuer} unreachable` });
      }
      throw error;
    }
  };

  async #initialize(attempt: number): Promise<void> {
    if (this.#timers.stopped) return;
    try {
      await this.refresh();
      this.#options.logger.info({ issuer: this.issuer, jwksUri: this.#jwksUri }, 'authorization server keys loaded');
      this.#markReady();
      this.#timers.schedule(() => this.#backgroundRefresh(), this.#options.refreshIntervalMs);
    } catch (error) {
      const delayMs = startupRetryDelayMs(attempt);
      this.#options.logger.warn(
        { issuer: this.issuer, error: (error as Error).message, retryInMs: delayMs },
        'cannot load authorization server keys; not ready',
      );
      this.#timers.schedule(() => this.#initialize(attempt + 1), delayMs);
    }
  }

  async #backgroundRefresh(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.#options.logger.warn({ issuer: this.issuer, error: (error as Error).message }, 'JWKS refresh failed; keeping known keys');
    }
    this.#timers.schedule(() => this.#backgroundRefresh(), this.#options.refreshIntervalMs);
  }

  async #ensureRemote(): Promise<RemoteJWKSet> {
    if (this.#remote) return this.#remote;
    const { timeoutMs, cooldownMs, fetch: fetchImpl } = this.#options;
    this.#jwksUri ??= await discoverJwksUri(this.issuer, { timeoutMs, ...(fetchImpl ? { fetch: fetchImpl } : {}) }).catch(
      (error: unknown) => {
        this.#recordFailure(error);
        throw error;
      },
    );
    this.#remote = createRemoteJWKSet(new URL(this.#jwksUri), {
      timeoutDuration: timeoutMs,
      cooldownDuration: cooldownMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      ...(fetchImpl ? { [customFetch]: fetchImpl } : {}),
    });
    return this.#remote;
  }

  #recordFailure(error: unknown): void {
    this.#lastFailureAt = this.#now();
    this.#lastError = error instanceof Error ? error.message : String(error);
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }
}

/** Errors that mean "could not get the JWKS", as opposed to "the token is bad". */
function isFetchFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code === 'ERR_JWKS_TIMEOUT') return true;
  if (code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_INVALID') return true; // non-200 or unusable JWKS response
  return code === undefined && (error.name === 'TypeError' || error.name === 'AbortError' || error.name === 'TimeoutError');
}
