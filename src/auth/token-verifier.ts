import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthorizationServerConfig } from '../config/index.js';
import { GatewayError, type TokenRejectionReason } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { createAudienceMatcher } from './audience.js';
import { IssuerKeys } from './issuer-keys.js';
import type { FetchLike } from './issuer-metadata.js';
import { readClientId, readScopes, type Principal } from './principal.js';
import { hashToken, TokenCache } from './token-cache.js';

export interface TokenVerifier {
  /** @throws GatewayError `token_invalid` with a `tokenRejection` reason */
  verify(token: string): Promise<Principal>;
  /** Per-issuer key state, for `/readyz`. */
  readonly issuers: readonly IssuerKeys[];
  start(): void;
  stop(): void;
}

export interface JwtVerifierOptions {
  authorizationServers: readonly AuthorizationServerConfig[];
  /** Audiences accepted when an authorization server lists none: the resource URL. */
  defaultAudiences: readonly string[];
  cache: { maxEntries: number; maxTtlSeconds: number };
  logger: Logger;
  fetch?: FetchLike;
  /** Clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  /** Told after every JWKS fetch attempt (metrics). */
  onKeysRefreshed?: (issuer: string, ok: boolean) => void;
}

interface IssuerVerifier {
  keys: IssuerKeys;
  getKey: JWTVerifyGetKey;
  verifyOptions: Parameters<typeof jwtVerify>[2];
  acceptsAudience: (aud: unknown) => boolean;
}

/** Length of the token fingerprint recorded in audit records. */
const FINGERPRINT_LENGTH = 12;

/**
 * Verifies JWT access tokens from the configured authorization servers. The
 * issuer is picked by the token's `iss` (unverified, only to choose keys; the
 * signature check then binds it), and everything about an issuer (keys,
 * algorithms, audiences) is built once here, not per request.
 */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const cache = new TokenCache({ maxEntries: options.cache.maxEntries, maxTtlMs: options.cache.maxTtlSeconds * 1000, now });
  const verifiers = new Map<string, IssuerVerifier>(
    options.authorizationServers.map((server) => [server.issuer, buildIssuerVerifier(server, options, now)]),
  );

  async function verify(token: string): Promise<Principal> {
    const key = hashToken(token);
    const cached = cache.get(key);
    if (cached) return cached;

    const unverified = decodeUnverified(token);
    const issuer = typeof unverified.iss === 'string' ? verifiers.get(unverified.iss) : undefined;
    if (!issuer) throw reject('wrong_issuer', 'token iss is not a configured authorization server');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.getKey, { ...issuer.verifyOptions, currentDate: new Date(now()) }));
    } catch (error) {
      throw toRejection(error);
    }
    if (!issuer.acceptsAudience(payload.aud)) throw reject('wrong_audience', 'token aud does not name this resource');
    // RFC 7519 §4.1.2: a StringOrURI. Anything else would fall back to the client id below and
    // make every such user one principal (one rate limit, each other's sessions).
    if (payload.sub !== undefined && typeof payload.sub !== 'string') throw reject('malformed', 'token sub is not a string');

    const principal: Principal = {
      issuer: payload.iss as string,
      subject: typeof payload.sub === 'string' ? payload.sub : (readClientId(payload) ?? 'unknown'),
      clientId: readClientId(payload),
      scopes: readScopes(payload),
      claims: payload,
      expiresAt: payload.exp as number,
      tokenFingerprint: key.slice(0, FINGERPRINT_LENGTH),
      authenticationMethod: 'jwt',
    };
    cache.set(key, principal);
    return principal;
  }

  const issuers = [...verifiers.values()].map((verifier) => verifier.keys);
  return {
    verify,
    issuers,
    start: () => issuers.forEach((keys) => keys.start()),
    stop: () => issuers.forEach((keys) => keys.stop()),
  };
}

function buildIssuerVerifier(server: AuthorizationServerConfig, options: JwtVerifierOptions, now: () => number): IssuerVerifier {
  const keys = new IssuerKeys({
    issuer: server.issuer,
    ...(server.jwksUri ? { jwksUri: server.jwksUri } : {}),
    timeoutMs: server.metadataTimeoutMs,
    cooldownMs: server.jwksCooldownSeconds * 1000,
    refreshIntervalMs: server.jwksRefreshIntervalSeconds * 1000,
    logger: options.logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.onKeysRefreshed ? { onRefresh: options.onKeysRefreshed } : {}),
    now,
  });
  const secret = server.sharedSecret ? new TextEncoder().encode(server.sharedSecret) : undefined;
  // HS* tokens are checked with the shared secret, everything else with the JWKS;
  // the algorithm allow-list decides which of the two a token may use at all.
  const getKey: JWTVerifyGetKey = (header, token) =>
    secret && header.alg?.startsWith('HS') ? secret : keys.getKey(header, token);
  return {
    keys,
    getKey,
    verifyOptions: {
      issuer: server.issuer,
      algorithms: [...server.algorithms],
      clockTolerance: server.clockToleranceSeconds,
      requiredClaims: ['exp', 'iss', 'aud'],
      ...(server.requireAccessTokenType ? { typ: 'at+jwt' } : {}),
    },
    acceptsAudience: createAudienceMatcher(server.audiences ?? options.defaultAudiences),
  };
}

function decodeUnverified(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch (error) {
    throw reject('malformed', 'token is not a JWS-compact JWT', error);
  }
}

function reject(reason: TokenRejectionReason, detail: string, cause?: unknown): GatewayError {
  return new GatewayError('token_invalid', { tokenRejection: reason, detail, cause });
}

/** jose error → rejection reason. Anything unexpected is still a 401 (fail closed), never a 500. */
function toRejection(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof joseErrors.JWTExpired) return reject('expired', 'token expired', error);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const byClaim: Record<string, TokenRejectionReason> = { nbf: 'not_yet_valid', iat: 'not_yet_valid', iss: 'wrong_issuer', typ: 'wrong_type' };
    // A claim of the wrong type ('invalid') is a malformed token, whichever claim it is.
    const reason = error.reason === 'missing' ? 'missing_claim' : error.reason === 'invalid' ? 'malformed' : (byClaim[error.claim] ?? 'malformed');
    return reject(reason, `claim ${error.claim} ${error.reason}`, error);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return reject('algorithm_not_allowed', 'token algorithm not allowed', error);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return reject('unknown_key', 'no key matches the token kid', error);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKInvalid) {
    return reject('bad_signature', 'signature verification failed', error);
  }
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
    return reject('malformed', 'token is malformed', error);
  }
  return reject('keys_unavailable', 'token could not be verified', error);
}
