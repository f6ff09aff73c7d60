import type { FetchLike } from '../auth/index.js';
import { ConfigError, type UpstreamCredentialConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { AppliedCredential, CredentialState } from './service-credential.js';
import { createTokenEndpoint, TokenEndpointError, type IssuedToken, type TokenEndpoint } from './token-endpoint.js';
import { TokenSlot } from './token-slot.js';

export type TokenCredentialConfig = Extract<UpstreamCredentialConfig, { type: 'client_credentials' | 'token_exchange' }>;

export interface TokenCredentialDependencies {
  logger: Logger;
  fetch?: FetchLike | undefined;
  now?: (() => number) | undefined;
}

/** The token endpoint of a client-credentials or token-exchange config. */
export function createConfiguredTokenEndpoint(config: TokenCredentialConfig, grantType: string, deps: TokenCredentialDependencies): TokenEndpoint {
  return createTokenEndpoint({
    issuer: config.issuer,
    tokenEndpoint: config.tokenEndpoint,
    grantType,
    client: {
      clientId: config.clientId,
      method: config.clientAuthentication,
      clientSecret: config.clientSecret,
      privateKey: config.privateKey ? { text: config.privateKey, kid: config.privateKeyId, algorithm: config.signingAlgorithm } : undefined,
    },
    timeoutMs: config.timeoutMs,
    failureCooldownMs: config.failureCooldownMs,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
}

/** The `scope` / `audience` / `resource` parameters of a token request, as configured. */
export function buildTargetParameters(config: TokenCredentialConfig): Record<string, string> {
  return {
    ...(config.scope && config.scope.length > 0 ? { scope: config.scope.join(' ') } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
    ...(config.resource ? { resource: config.resource } : {}),
  };
}

/** A token slot with the config's renewal settings; background failures go to the log. */
export function createConfiguredSlot(config: TokenCredentialConfig, deps: TokenCredentialDependencies): TokenSlot {
  return new TokenSlot({
    refreshBeforeExpiryMs: config.refreshBeforeExpirySeconds * 1000,
    rejectionRenewalCooldownMs: config.failureCooldownMs,
    now: deps.now ?? Date.now,
    onBackgroundFailure: (error) =>
      deps.logger.warn({ error: (error as Error).message }, 'background renewal of the upstream token failed; the cached one is still valid'),
  });
}

/**
 * A token from `slot` as `Authorization: Bearer`, renewable once after an upstream 401 (the
 * renewal shared with every request refused with the same token).
 */
export function toBearerCredential(slot: TokenSlot, token: IssuedToken, fetchToken: () => Promise<IssuedToken>, failureCooldownMs: number): AppliedCredential {
  return {
    headers: { authorization: `Bearer ${token.value}` },
    renew: async () => {
      const renewed = await slot.renewAfterRejection(token, fetchToken).catch((error: unknown) => {
        throw toGatewayError(error, failureCooldownMs);
      });
      return renewed ? toBearerCredential(slot, renewed, fetchToken, failureCooldownMs) : undefined;
    },
  };
}

/**
 * A failed token request as the client sees it: 503 with Retry-After while the authorization
 * server is unreachable (the gateway recovers by itself), 502 when it refused. The detail
 * (endpoint, OAuth error) is for the operator log only.
 */
export function toGatewayError(error: unknown, failureCooldownMs: number): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof TokenEndpointError && !error.transient) {
    return new GatewayError('upstream_credential_refused', { detail: error.message, cause: error });
  }
  const retryAfterSeconds = String(Math.max(1, Math.ceil(failureCooldownMs / 1000)));
  return new GatewayError('upstream_credential_unavailable', {
    detail: error instanceof Error ? error.message : 'token request failed',
    cause: error,
    headers: { 'retry-after': retryAfterSeconds },
  });
}

/** A definitive answer at start-up: the configuration is wrong. Named by its key, printed without a stack. */
export function toStartupConfigError(error: TokenEndpointError, hint: string): ConfigError {
  const key = error.configKey ? `upstream.credential.${error.configKey}` : 'upstream.credential';
  return new ConfigError([{ path: key, message: `${error.message}; ${hint}` }]);
}

/**
 * Runs a start-up check of a credential. A definitive failure rejects (misconfiguration is
 * reported at start-up, not at the first request); a transient one (AS unreachable) is logged,
 * leaves the credential not ready and is retried in the background with backoff until it
 * passes. Requests meanwhile try on their own and get 503 while the AS stays down.
 */
export class StartupCheck {
  #state: CredentialState = { status: 'pending' };
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #run: () => Promise<void>;
  readonly #describe: string;
  readonly #hint: string;
  readonly #logger: Logger;

  constructor(options: { run: () => Promise<void>; describe: string; hint: string; logger: Logger }) {
    this.#run = options.run;
    this.#describe = options.describe;
    this.#hint = options.hint;
    this.#logger = options.logger;
  }

  get state(): CredentialState {
    return this.#state;
  }

  /** Marks the credential ready (a request obtained a token before the background retry did). */
  markReady(): void {
    this.#state = { status: 'ready' };
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async start(): Promise<void> {
    try {
      await this.#run();
      this.markReady();
      this.#logger.info({ credential: this.#describe }, 'upstream credential ready');
    } catch (error) {
      if (error instanceof TokenEndpointError && !error.transient) throw toStartupConfigError(error, this.#hint);
      this.#retryLater(error, 0);
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #retryLater(error: unknown, attempt: number): void {
    if (this.#stopped || this.#state.status === 'ready') return;
    const delayMs = Math.min(30_000, 500 * 2 ** attempt);
    this.#state = { status: 'pending', lastError: (error as Error).message };
    this.#logger.warn(
      { credential: this.#describe, error: (error as Error).message, retryInMs: delayMs },
      'cannot reach the authorization server for the upstream credential; not ready, retrying',
    );
    this.#timer = setTimeout(() => {
      this.#run()
        .then(() => {
          this.markReady();
          this.#logger.info({ credential: this.#describe }, 'upstream credential ready');
        })
        .catch((next: unknown) => {
          if (next instanceof TokenEndpointError && !next.transient) {
            // The AS is back and says the configuration is wrong: keep serving 502s, say why.
            this.#state = { status: 'pending', lastError: next.message };
            this.#logger.error({ credential: this.#describe, error: next.message }, 'upstream credential misconfigured');
            return;
          }
          this.#retryLater(next, attempt + 1);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
