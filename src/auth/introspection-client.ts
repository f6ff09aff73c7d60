import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { createClientAuthentication, type ApplyClientAuthentication } from './client-authentication.js';
import { loadIssuerMetadata, MetadataDiscoveryError, type FetchLike } from './issuer-metadata.js';
import { describeFetchError, RetrySchedule, startupRetryDelayMs } from './retry-schedule.js';

export interface IntrospectionClientOptions {
  issuer: string;
  /** The endpoint; discovered from the issuer's metadata (`introspection_endpoint`) when absent. */
  endpoint?: string | undefined;
  clientId: string;
  clientSecret: string;
  clientAuthentication: 'client_secret_basic' | 'client_secret_post';
  /** Timeout of each introspection and discovery request, in ms. */
  timeoutMs: number;
  /** After a failure, requests fail fast (503) for this long before the endpoint is asked again, in ms. */
  failureCooldownMs: number;
  /** Introspection requests in flight at once; beyond it, 503 at once (the issuer is not asked). */
  maxConcurrentRequests: number;
  logger: Logger;
  fetch?: FetchLike;
  now?: () => number;
}

/** For `/readyz`: ready once the endpoint is known and accepted the gateway's client credentials. */
export type IntrospectionState = { status: 'pending' | 'ready'; introspectionEndpoint?: string; lastError?: string };

/** An RFC 7662 §2.2 response: `active` and, when true, what the issuer says about the token. */
export type IntrospectionResponse = { active: boolean } & Record<string, unknown>;

/**
 * The gateway as a client of one issuer's RFC 7662 introspection endpoint: discovery, client
 * authentication (RFC 6749 §2.3.1), the request, and the answer classified as a response
 * (active or not) or `introspection_unavailable` (503, fail closed). A failure starts a
 * cooldown during which requests fail fast, so a down or misconfigured endpoint is not hammered
 * and clients are not kept waiting for a timeout each. At most `maxConcurrentRequests` are in
 * flight: authentication comes before any per-caller rate limit, so a flood of distinct random
 * tokens would otherwise turn into as many requests to the issuer. The token goes to the
 * endpoint and nowhere else: never into a log line, an error or `lastError`.
 */
export class IntrospectionClient {
  readonly issuer: string;
  #options: IntrospectionClientOptions;
  #fetch: FetchLike;
  #authenticate: ApplyClientAuthentication;
  #endpoint: string | undefined;
  #resolving: Promise<string> | undefined;
  #lastFailureAtMs = Number.NEGATIVE_INFINITY;
  #lastError: string | undefined;
  #ready = false;
  #readyPromise: Promise<void>;
  #markReady!: () => void;
  #timers = new RetrySchedule();
  #inFlight = 0;
  readonly #retryAfter: string;

  constructor(options: IntrospectionClientOptions) {
    this.issuer = options.issuer;
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#endpoint = options.endpoint;
    this.#authenticate = createClientAuthentication({
      clientId: options.clientId,
      method: options.clientAuthentication,
      clientSecret: options.clientSecret,
      assertionAudience: options.issuer,
    });
    this.#retryAfter = String(Math.max(1, Math.ceil(options.failureCooldownMs / 1000)));
    this.#readyPromise = new Promise((resolve) => (this.#markReady = resolve));
  }

  get state(): IntrospectionState {
    return {
      status: this.#ready ? 'ready' : 'pending',
      ...(this.#endpoint ? { introspectionEndpoint: this.#endpoint } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Resolves once the endpoint answered a request with the gateway's credentials. */
  whenReady(): Promise<void> {
    return this.#readyPromise;
  }

  /** Discovers the endpoint and checks the credentials with a probe, retrying with backoff until it works. */
  start(): void {
    void this.#initialize(0);
  }

  stop(): void {
    this.#timers.stop();
  }

  /**
   * Checks the endpoint now: introspects a random value, which a working endpoint answers
   * `active: false` (RFC 7662 §2.2), so a wrong endpoint or refused credentials show at start-up.
   * @throws GatewayError `introspection_unavailable`
   */
  async refresh(): Promise<void> {
    await this.introspect(`probe-${randomBytes(24).toString('base64url')}`);
  }

  /**
   * Asks the issuer about one token.
   * @throws GatewayError `introspection_unavailable` when there is no usable answer
   */
  async introspect(token: string): Promise<IntrospectionResponse> {
    this.#failFastIfCoolingDown();
    if (this.#inFlight >= this.#options.maxConcurrentRequests) {
      // Not a failure of the endpoint: no cooldown, so the callers already in flight decide.
      throw this.#unavailable(`${this.#inFlight} introspections at ${this.issuer} in flight (maxConcurrentRequests); not asking`);
    }
    this.#inFlight += 1;
    try {
      return await this.#request(token);
    } finally {
      this.#inFlight -= 1;
    }
  }

  async #request(token: string): Promise<IntrospectionResponse> {
    const endpoint = await this.#resolveEndpoint();
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    await this.#authenticate({ headers, form });
    let response: Response;
    try {
      response = await this.#fetch(endpoint, {
        method: 'POST',
        headers,
        body: form,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error) {
      throw this.#failure(`introspection endpoint ${endpoint} unreachable: ${describeFetchError(error)}`);
    }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const oauthError = typeof body?.error === 'string' ? body.error.replace(/[^\w.-]/g, '').slice(0, 64) : undefined;
    if (response.status === 401 || response.status === 403 || oauthError === 'invalid_client') {
      throw this.#failure(
        `introspection endpoint ${endpoint} refused the gateway's client credentials (HTTP ${response.status}${oauthError ? ` ${oauthError}` : ''}): check introspection.clientId, clientSecret and clientAuthentication of ${this.issuer}`,
        'error',
      );
    }
    if (!response.ok) {
      throw this.#failure(`introspection endpoint ${endpoint} answered HTTP ${response.status}${oauthError ? ` ${oauthError}` : ''}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof body.active !== 'boolean') {
      throw this.#failure(`introspection endpoint ${endpoint} answered without a JSON object with a boolean active (RFC 7662 §2.2)`);
    }
    this.#succeeded();
    return body as IntrospectionResponse;
  }

  async #resolveEndpoint(): Promise<string> {
    if (this.#endpoint) return this.#endpoint;
    this.#resolving ??= this.#discover().finally(() => {
      this.#resolving = undefined;
    });
    return this.#resolving;
  }

  async #discover(): Promise<string> {
    const { timeoutMs } = this.#options;
    try {
      const metadata = await loadIssuerMetadata(this.issuer, { fetch: this.#fetch, timeoutMs, requiredField: 'introspection_endpoint' });
      this.#endpoint = metadata.introspection_endpoint as string;
      this.#warnIfPlainHttp(this.#endpoint);
      return this.#endpoint;
    } catch (error) {
      const definitive = error instanceof MetadataDiscoveryError && !error.transient;
      throw this.#failure(`${(error as Error).message}${definitive ? '; set introspection.endpoint' : ''}`, definitive ? 'error' : 'warn');
    }
  }

  #failFastIfCoolingDown(): void {
    if (this.#now() - this.#lastFailureAtMs < this.#options.failureCooldownMs) {
      throw this.#unavailable(`introspection at ${this.issuer} failed moments ago (${this.#lastError}); not asking again yet`);
    }
  }

  /** Records a failure (state, cooldown; logged when it differs from the last) and returns the 503 to throw. */
  #failure(message: string, level: 'warn' | 'error' = 'warn'): GatewayError {
    this.#lastFailureAtMs = this.#now();
    if (message !== this.#lastError) this.#options.logger[level]({ issuer: this.issuer, error: message }, 'token introspection failed; answering 503');
    this.#lastError = message;
    return this.#unavailable(message);
  }

  #unavailable(detail: string): GatewayError {
    return new GatewayError('introspection_unavailable', { detail, headers: { 'retry-after': this.#retryAfter } });
  }

  #succeeded(): void {
    if (this.#lastError && this.#ready) this.#options.logger.info({ issuer: this.issuer }, 'token introspection works again');
    this.#lastError = undefined;
    if (!this.#ready) {
      this.#ready = true;
      this.#markReady();
    }
  }

  async #initialize(attempt: number): Promise<void> {
    if (this.#timers.stopped || this.#ready) return;
    if (attempt === 0 && this.#endpoint) this.#warnIfPlainHttp(this.#endpoint);
    try {
      await this.refresh();
      this.#options.logger.info({ issuer: this.issuer, introspectionEndpoint: this.#endpoint }, 'introspection endpoint ready');
    } catch {
      // Already logged by #failure; keep trying, with backoff, until it works.
      this.#timers.schedule(() => this.#initialize(attempt + 1), Math.max(startupRetryDelayMs(attempt), this.#options.failureCooldownMs));
    }
  }

  /** Tokens and the client secret would cross the network in clear. */
  #warnIfPlainHttp(endpoint: string): void {
    const url = new URL(endpoint);
    if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      this.#options.logger.warn({ issuer: this.issuer, introspectionEndpoint: endpoint }, 'introspection endpoint is plain http: tokens and the client secret travel unencrypted');
    }
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }
}
