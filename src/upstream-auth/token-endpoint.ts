import { decodeJwt } from 'jose';
import {
  createClientAuthentication,
  describeFetchError,
  loadIssuerMetadata,
  MetadataDiscoveryError,
  type ApplyClientAuthentication,
  type ClientAuthenticationMethod,
  type FetchLike,
  type IssuerMetadata,
} from '../auth/index.js';
import { loadSigningKey, type SigningAlgorithm } from '../keys/index.js';

/** A token the authorization server issued to the gateway. The value never leaves for anywhere but the upstream. */
export interface IssuedToken {
  readonly value: string;
  /** When the request for it was sent, ms since the epoch (its lifetime counts from there). */
  readonly obtainedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * A token request that did not produce a token. `transient`: the AS could not be reached, timed
 * out or answered 5xx/429 (retry later); otherwise it gave a definitive answer (an OAuth error
 * such as `invalid_client`, or a response the gateway cannot use). `configKey` names the
 * `upstream.credential` key most likely at fault, for start-up messages.
 */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError';
  readonly transient: boolean;
  readonly oauthError: string | undefined;
  readonly configKey: string | undefined;

  constructor(message: string, options: { transient: boolean; oauthError?: string; configKey?: string }) {
    super(message);
    this.transient = options.transient;
    this.oauthError = options.oauthError;
    this.configKey = options.configKey;
  }
}

export interface TokenEndpointOptions {
  /** Issuer whose metadata names the token endpoint; also the private_key_jwt audience. */
  issuer?: string | undefined;
  /** Token endpoint URL; skips discovery. */
  tokenEndpoint?: string | undefined;
  /** The grant this endpoint is used for; checked against `grant_types_supported`. */
  grantType: string;
  client: {
    clientId: string;
    method: ClientAuthenticationMethod;
    clientSecret?: string | undefined;
    /** For private_key_jwt: the key text (PEM or JWK), its `kid` and algorithm when configured. */
    privateKey?: { text: string; kid?: string | undefined; algorithm?: SigningAlgorithm | undefined } | undefined;
  };
  timeoutMs: number;
  /** After a transient failure, fail fast for this long before asking again. */
  failureCooldownMs: number;
  fetch?: FetchLike;
  now?: () => number;
}

export interface TokenEndpoint {
  /** Discovers the endpoint once (single flight) and checks the AS metadata lists the grant and the client authentication method. */
  resolve(): Promise<string>;
  /** One token request with client authentication. @throws TokenEndpointError */
  request(parameters: Record<string, string>): Promise<IssuedToken>;
  /** The endpoint, once resolved (for audit and messages). */
  readonly url: string | undefined;
}

/** Lifetime assumed when the AS sends no `expires_in` and the token is not a JWT with `exp`. */
const ASSUMED_LIFETIME_MS = 5 * 60 * 1000;

/**
 * The gateway as an OAuth client of one token endpoint (RFC 6749 §3.2): discovery, client
 * authentication, the request, and the response classified into "token", "refused" (definitive)
 * and "unavailable" (transient, with a cooldown so a down AS is not hammered).
 */
export function createTokenEndpoint(options: TokenEndpointOptions): TokenEndpoint {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let url: string | undefined;
  let authenticate: ApplyClientAuthentication | undefined;
  let resolving: Promise<string> | undefined;
  /** A definitive discovery failure is kept: asking again would only repeat it. */
  let misconfigured: TokenEndpointError | undefined;
  let lastFailureAtMs = Number.NEGATIVE_INFINITY;

  function failFastIfCoolingDown(): void {
    if (now() - lastFailureAtMs < options.failureCooldownMs) {
      throw new TokenEndpointError('authorization server unreachable moments ago; waiting before asking again', { transient: true });
    }
  }

  function transientFailure(message: string): TokenEndpointError {
    lastFailureAtMs = now();
    return new TokenEndpointError(message, { transient: true });
  }

  /** The configured endpoint, or the one in the issuer's metadata; the metadata also serves to check the grant and method. */
  async function discover(): Promise<string> {
    if (!options.issuer) return options.tokenEndpoint!;
    failFastIfCoolingDown();
    let metadata: IssuerMetadata;
    try {
      metadata = await loadIssuerMetadata(options.issuer, { fetch: fetchImpl, timeoutMs: options.timeoutMs, requiredField: 'token_endpoint' });
    } catch (error) {
      // With a configured endpoint the metadata only adds checks; go without them.
      if (options.tokenEndpoint) return options.tokenEndpoint;
      if (error instanceof MetadataDiscoveryError && error.transient) throw transientFailure(error.message);
      misconfigured = new TokenEndpointError((error as Error).message, { transient: false, configKey: 'issuer' });
      throw misconfigured;
    }
    try {
      checkMetadata(metadata, options);
    } catch (error) {
      misconfigured = error as TokenEndpointError;
      throw error;
    }
    return options.tokenEndpoint ?? (metadata.token_endpoint as string);
  }

  async function resolve(): Promise<string> {
    if (url && authenticate) return url;
    if (misconfigured) throw misconfigured;
    resolving ??= discover().finally(() => {
      resolving = undefined;
    });
    const endpoint = await resolving;
    const { privateKey, ...client } = options.client;
    const signingKey = privateKey ? loadSigningKey(privateKey.text, { kid: privateKey.kid, algorithm: privateKey.algorithm }) : undefined;
    authenticate ??= createClientAuthentication({ ...client, signingKey, assertionAudience: options.issuer ?? endpoint, now });
    url = endpoint;
    return endpoint;
  }

  async function request(parameters: Record<string, string>): Promise<IssuedToken> {
    const endpoint = await resolve();
    failFastIfCoolingDown();
    const form = new URLSearchParams(parameters);
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    await authenticate!({ headers, form });
    const sentAtMs = now();
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers,
        body: form,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw transientFailure(`token endpoint ${endpoint} unreachable: ${describeFetchError(error)}`);
    }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (response.status >= 500 || response.status === 429) {
      throw transientFailure(`token endpoint ${endpoint} answered HTTP ${response.status}`);
    }
    if (!response.ok) {
      const oauthError = typeof body?.error === 'string' ? body.error : undefined;
      const description = typeof body?.error_description === 'string' ? `: ${sanitize(body.error_description)}` : '';
      throw new TokenEndpointError(`token endpoint ${endpoint} refused the request (${oauthError ?? `HTTP ${response.status}`}${description})`, {
        transient: false,
        ...(oauthError ? { oauthError, configKey: configKeyFor(oauthError) } : {}),
      });
    }
    return parseTokenResponse(body, sentAtMs, endpoint);
  }

  return {
    resolve,
    request,
    get url() {
      return url;
    },
  };
}

/** RFC 8414 §2: when the AS lists what it supports, a grant or method it does not list will fail. */
function checkMetadata(metadata: IssuerMetadata, options: TokenEndpointOptions): void {
  const grants = metadata.grant_types_supported;
  if (Array.isArray(grants) && !grants.includes(options.grantType)) {
    throw new TokenEndpointError(`the authorization server does not support the ${options.grantType} grant (grant_types_supported)`, {
      transient: false,
      configKey: 'type',
    });
  }
  const methods = metadata.token_endpoint_auth_methods_supported;
  if (Array.isArray(methods) && !methods.includes(options.client.method)) {
    throw new TokenEndpointError(
      `the authorization server does not support client authentication ${options.client.method} (supported: ${methods.join(', ')})`,
      { transient: false, configKey: 'clientAuthentication' },
    );
  }
}

function parseTokenResponse(body: Record<string, unknown> | undefined, sentAtMs: number, endpoint: string): IssuedToken {
  const value = body?.access_token;
  // Bearer only: a DPoP- or mTLS-bound token would need proofs the gateway does not send.
  // RFC 8693 §2.2.1 allows N_A when the issued token is not an access token; it is not usable here.
  if (typeof value !== 'string' || value === '' || typeof body?.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new TokenEndpointError(`token endpoint ${endpoint} answered without a Bearer access_token`, { transient: false });
  }
  const expiresIn = body.expires_in;
  let expiresAtMs = sentAtMs + ASSUMED_LIFETIME_MS;
  if (typeof expiresIn === 'number' && expiresIn > 0) {
    expiresAtMs = sentAtMs + expiresIn * 1000;
  } else {
    const exp = readJwtExpiry(value);
    if (exp !== undefined) expiresAtMs = exp * 1000;
  }
  return { value, obtainedAtMs: sentAtMs, expiresAtMs };
}

function readJwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** Which config key an OAuth error points at, for start-up messages. */
function configKeyFor(oauthError: string): string | undefined {
  switch (oauthError) {
    case 'invalid_client':
      return 'clientId';
    case 'invalid_scope':
      return 'scope';
    case 'invalid_target':
      return 'resource';
    case 'unauthorized_client':
    case 'unsupported_grant_type':
      return 'type';
    default:
      return undefined;
  }
}

/** An AS-written description goes into operator logs: keep it short and strip anything token-shaped. */
function sanitize(description: string): string {
  return description.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[jwt]').slice(0, 200);
}
