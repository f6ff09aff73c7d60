import { createHash } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import type { ApiKeyConfig, AuthorizationServerConfig } from '../config/index.js';
import type { GatewayError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { API_KEY_PREFIX, createApiKeyVerifier } from './api-keys.js';
import { isIntrospectionUnavailable } from './introspection-verification.js';
import type { FetchLike } from './issuer-metadata.js';
import { createIssuerVerifier, createLocalIssuerVerifier, type IssuerStatus, type IssuerVerifier, type LocalIssuer, type VerifiedToken } from './issuer-verifier.js';
import { rejectToken } from './token-rejection.js';
import type { Principal } from './principal.js';
import { TokenCache } from './token-cache.js';

export type { LocalIssuer } from './issuer-verifier.js';

export interface TokenVerifier {
  /** @throws GatewayError `token_invalid` with a `tokenRejection` reason, or `introspection_unavailable` */
  verify(token: string): Promise<Principal>;
  /** Per-issuer state (keys, introspection endpoint), for `/readyz`. */
  readonly issuers: readonly IssuerStatus[];
  start(): void;
  stop(): void;
}

export interface TokenVerifierOptions {
  authorizationServers: readonly AuthorizationServerConfig[];
  /** Static API keys (hashes); default none. */
  apiKeys?: readonly ApiKeyConfig[];
  /** Audiences accepted when an authorization server lists none: the resource URL. */
  defaultAudiences: readonly string[];
  cache: { maxEntries: number; maxTtlSeconds: number };
  logger: Logger;
  fetch?: FetchLike;
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  /** Told after every JWKS fetch attempt (metrics). */
  onKeysRefreshed?: (issuer: string, ok: boolean) => void;
  /** Issuers whose keys are in this process (the authorization server facade): verified alike, without fetching. */
  localIssuers?: readonly LocalIssuer[];
}

/**
 * The one verifier behind the `Authorization: Bearer` header, for every kind of token:
 *
 * - a JWT-shaped token goes to the issuer its `iss` names (unverified, only to choose; the
 *   signature check or the issuer's introspection then binds it): that issuer's keys, or its
 *   introspection endpoint when it is introspection-only. An `iss` no issuer has is refused
 *   without asking anyone.
 * - any other (opaque) credential is first compared with the API keys, if any. One that carries
 *   the API-key prefix and matches none is refused there: a mistyped or revoked key is never
 *   shown to an authorization server. Otherwise it goes to the issuers that introspect, in
 *   config order, until one says it is active. One that is unreachable does not end the search,
 *   but if no other issuer knows the token the answer is 503, never acceptance (fail closed).
 *   Every introspecting issuer may thus see an opaque token meant for another one: configure
 *   only issuers you trust with each other's tokens.
 *
 * Verified principals are cached by the token's SHA-256 (see `TokenCache`). Everything about an
 * issuer (keys, audiences, claim mapping, introspection client) is built once, here.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const maxTtlMs = options.cache.maxTtlSeconds * 1000;
  const cache = new TokenCache({ maxEntries: options.cache.maxEntries, maxTtlMs, now });
  const issuers: IssuerVerifier[] = [
    ...options.authorizationServers.map((server) =>
      createIssuerVerifier(server, {
        defaultAudiences: options.defaultAudiences,
        cache: { maxEntries: options.cache.maxEntries, maxTtlMs },
        logger: options.logger,
        fetch: options.fetch,
        now,
        onKeysRefreshed: options.onKeysRefreshed,
      }),
    ),
    ...(options.localIssuers ?? []).map((local) => createLocalIssuerVerifier(local, { maxTtlMs, now })),
  ];
  const byIssuer = new Map(issuers.map((issuer) => [issuer.issuer, issuer]));
  const introspecting = issuers.filter((issuer) => issuer.introspect !== undefined);
  const apiKeys = options.apiKeys?.length ? createApiKeyVerifier(options.apiKeys) : undefined;

  async function verifyOpaque(token: string, digest: Buffer, tokenHash: string): Promise<VerifiedToken> {
    const apiKey = apiKeys?.match(digest);
    // Not cached: a hash and a few comparisons cost less than a cache entry.
    if (apiKey) return { principal: apiKey, cacheForMs: 0 };
    if (apiKeys && (token.startsWith(API_KEY_PREFIX) || introspecting.length === 0)) {
      throw rejectToken('unknown_api_key', 'credential matches no configured API key');
    }
    if (introspecting.length === 0) throw rejectToken('malformed', 'token is not a JWT and no authorization server introspects opaque tokens');
    let unavailable: GatewayError | undefined;
    for (const issuer of introspecting) {
      try {
        return await issuer.introspect!(token, tokenHash);
      } catch (error) {
        if (isIntrospectionUnavailable(error)) unavailable ??= error;
        else if ((error as GatewayError).tokenRejection !== 'inactive') throw error;
      }
    }
    throw unavailable ?? rejectToken('inactive', 'no authorization server knows the token (introspection: active false)');
  }

  async function verify(token: string): Promise<Principal> {
    const digest = createHash('sha256').update(token).digest();
    const tokenHash = digest.toString('base64url');
    const cached = cache.get(tokenHash);
    if (cached) return cached;

    const claims = decodeIfJwt(token);
    let verified: VerifiedToken;
    if (claims) {
      const issuer = typeof claims.iss === 'string' ? byIssuer.get(claims.iss) : undefined;
      if (!issuer) throw rejectToken('wrong_issuer', 'token iss is not a configured authorization server');
      verified = await issuer.verifyJwt(token, tokenHash);
    } else {
      verified = await verifyOpaque(token, digest, tokenHash);
    }
    cache.set(tokenHash, verified.principal, verified.cacheForMs);
    return verified.principal;
  }

  return {
    verify,
    issuers,
    start: () => issuers.forEach((issuer) => issuer.start()),
    stop: () => issuers.forEach((issuer) => issuer.stop()),
  };
}

/** The unverified payload of a JWS-compact JWT, or undefined for anything else (an opaque token). */
function decodeIfJwt(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
