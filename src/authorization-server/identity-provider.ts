import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import {
  createClientAuthentication,
  IssuerKeys,
  loadIssuerMetadata,
  MetadataDiscoveryError,
  type ApplyClientAuthentication,
  type FetchLike,
  type IssuerMetadata,
} from '../auth/index.js';
import { ASYMMETRIC_ALGORITHMS, type AuthorizationServerFacadeConfig } from '../config/index.js';
import { loadSigningKey } from '../keys/index.js';
import type { Logger } from '../log/index.js';
import { safeEqual } from './secrets.js';

type IdentityProviderConfig = AuthorizationServerFacadeConfig['identityProvider'];

/**
 * The login at the identity provider failed. `transient`: it could not be reached, timed out or
 * answered 5xx (the user may retry); otherwise it refused (an OAuth error) or answered something
 * the gateway cannot trust. The message is for the operator log; clients get a fixed text.
 */
export class IdentityProviderError extends Error {
  override readonly name = 'IdentityProviderError';
  readonly transient: boolean;

  constructor(message: string, transient: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.transient = transient;
  }
}

/** Who logged in, as the facade's tokens will say it. */
export interface IdentityProviderLogin {
  /** The `subjectClaim` of the ID token. */
  subject: string;
  /** The configured claims that were present (ID token first, then userinfo). */
  claims: Record<string, unknown>;
  /** `auth_time`, else the time of the login; seconds since the epoch. */
  authTime: number;
}

export interface IdentityProviderClient {
  /** The provider's signing keys (for readiness: ready once fetched). */
  readonly keys: IssuerKeys;
  /** Where to send the user: authorization code + PKCE S256 + nonce (OpenID Connect Core §3.1.2.1). */
  authorizationUrl(request: { state: string; nonce: string; codeChallenge: string }): Promise<string>;
  /**
   * Checks the authorization response's `iss` (RFC 9207), redeems the code (with client
   * authentication and the PKCE verifier), validates the ID token (signature against the
   * provider's JWKS, iss, aud, azp, exp, nonce) and reads the claims.
   * @throws IdentityProviderError
   */
  completeLogin(response: { code: string; iss: string | undefined }, expected: { nonce: string; codeVerifier: string }): Promise<IdentityProviderLogin>;
  start(): void;
  stop(): void;
}

export interface IdentityProviderOptions {
  config: IdentityProviderConfig;
  /** The facade's callback URL, registered at the provider. */
  redirectUri: string;
  logger: Logger;
  fetch?: FetchLike | undefined;
  now?: (() => number) | undefined;
}

/** Clock skew tolerated on ID token times, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * The gateway as a confidential OpenID Connect relying party of the company's identity provider:
 * registered once (no dynamic registration needed), discovered from its issuer. Everything that
 * can be prepared (client authentication, key set) is built here, once.
 */
export function createIdentityProviderClient(options: IdentityProviderOptions): IdentityProviderClient {
  const { config } = options;
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const keys = new IssuerKeys({
    issuer: config.issuer,
    timeoutMs: config.timeoutMs,
    cooldownMs: 30_000,
    refreshIntervalMs: 600_000,
    logger: options.logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    now,
  });
  const authenticate: ApplyClientAuthentication = createClientAuthentication({
    clientId: config.clientId,
    method: config.clientAuthentication,
    clientSecret: config.clientSecret,
    signingKey: config.privateKey ? loadSigningKey(config.privateKey, { kid: config.privateKeyId, algorithm: config.signingAlgorithm }) : undefined,
    assertionAudience: config.issuer,
    now,
  });
  let metadata: Promise<IssuerMetadata> | undefined;

  /** Discovered once; a failure is not kept, so the next login tries again. */
  function discover(): Promise<IssuerMetadata> {
    metadata ??= loadIssuerMetadata(config.issuer, { fetch: fetchImpl, timeoutMs: config.timeoutMs, requiredField: 'authorization_endpoint' })
      .then((document) => {
        if (typeof document.token_endpoint !== 'string') throw new MetadataDiscoveryError(`${config.issuer} metadata has no token_endpoint`, false);
        const methods = document.code_challenge_methods_supported;
        if (Array.isArray(methods) && !methods.includes('S256')) throw new MetadataDiscoveryError(`${config.issuer} does not support PKCE S256`, false);
        return document;
      })
      .catch((error: unknown) => {
        metadata = undefined;
        const transient = error instanceof MetadataDiscoveryError ? error.transient : true;
        throw new IdentityProviderError((error as Error).message, transient, { cause: error });
      });
    return metadata;
  }

  async function post(url: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    await authenticate({ headers, form });
    let response: Response;
    try {
      response = await fetchImpl(url, { method: 'POST', headers, body: form, redirect: 'error', signal: AbortSignal.timeout(config.timeoutMs) });
    } catch (error) {
      throw new IdentityProviderError(`token endpoint unreachable: ${(error as Error).message}`, true, { cause: error });
    }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!response.ok) {
      const code = typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new IdentityProviderError(`token endpoint refused the code (${code.slice(0, 64)})`, response.status >= 500 || response.status === 429);
    }
    if (!body || typeof body !== 'object') throw new IdentityProviderError('token endpoint answered without JSON', false);
    return body;
  }

  async function readUserinfo(endpoint: string, accessToken: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (error) {
      throw new IdentityProviderError(`userinfo endpoint unreachable: ${(error as Error).message}`, true, { cause: error });
    }
    if (!response.ok) throw new IdentityProviderError(`userinfo endpoint answered HTTP ${response.status}`, response.status >= 500);
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') throw new IdentityProviderError('userinfo endpoint answered without a JSON object', false);
    return body;
  }

  async function verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, keys.getKey, {
        issuer: config.issuer,
        audience: config.clientId,
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'iat', 'exp'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      const transient = error instanceof joseErrors.JWKSTimeout || (error as { tokenRejection?: string }).tokenRejection === 'keys_unavailable';
      throw new IdentityProviderError(`ID token refused: ${(error as Error).message}`, transient, { cause: error });
    }
    // OpenID Connect Core §3.1.3.7: with several audiences, azp names us; when present it must.
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if ((audiences.length > 1 || payload.azp !== undefined) && payload.azp !== config.clientId) {
      throw new IdentityProviderError('ID token azp does not name the gateway', false);
    }
    if (typeof payload.nonce !== 'string' || !safeEqual(payload.nonce, nonce)) throw new IdentityProviderError('ID token nonce does not match the login', false);
    return payload;
  }

  return {
    keys,
    async authorizationUrl({ state, nonce, codeChallenge }) {
      const document = await discover();
      const url = new URL(document.authorization_endpoint as string);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('redirect_uri', options.redirectUri);
      url.searchParams.set('scope', config.scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', nonce);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return url.href;
    },

    async completeLogin(response, expected) {
      const document = await discover();
      // RFC 9207 §2.4: a present iss must name the provider; when it advertises iss, it must be present.
      if (response.iss !== undefined ? response.iss !== config.issuer : document.authorization_response_iss_parameter_supported === true) {
        throw new IdentityProviderError('authorization response iss does not name the identity provider (mix-up?)', false);
      }
      const tokens = await post(
        document.token_endpoint as string,
        new URLSearchParams({ grant_type: 'authorization_code', code: response.code, redirect_uri: options.redirectUri, code_verifier: expected.codeVerifier }),
      );
      if (typeof tokens.id_token !== 'string') throw new IdentityProviderError('token response has no id_token (is openid among the scopes?)', false);
      const idToken = await verifyIdToken(tokens.id_token, expected.nonce);

      const subject = idToken[config.subjectClaim];
      if (typeof subject !== 'string' || subject === '') throw new IdentityProviderError(`ID token has no ${config.subjectClaim} claim to use as the subject`, false);
      const claims: Record<string, unknown> = {};
      for (const name of config.claims) if (idToken[name] !== undefined) claims[name] = idToken[name];
      const missing = config.claims.filter((name) => claims[name] === undefined);
      if (config.userinfo && missing.length > 0 && typeof document.userinfo_endpoint === 'string' && typeof tokens.access_token === 'string') {
        const userinfo = await readUserinfo(document.userinfo_endpoint, tokens.access_token);
        // OpenID Connect Core §5.3.4: the userinfo sub must be the ID token's.
        if (userinfo.sub !== idToken.sub) throw new IdentityProviderError('userinfo sub differs from the ID token', false);
        for (const name of missing) if (userinfo[name] !== undefined) claims[name] = userinfo[name];
      }
      const authTime = typeof idToken.auth_time === 'number' ? idToken.auth_time : Math.floor(now() / 1000);
      return { subject, claims, authTime };
    },

    start() {
      keys.start();
      discover().catch((error: unknown) => options.logger.warn({ issuer: config.issuer, error: (error as Error).message }, 'identity provider metadata not available yet'));
    },
    stop: () => keys.stop(),
  };
}
