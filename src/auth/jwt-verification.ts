import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthorizationServerConfig } from '../config/index.js';
import { GatewayError, type TokenRejectionReason } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { IssuerKeys } from './issuer-keys.js';
import { rejectToken } from './token-rejection.js';
import type { FetchLike } from './issuer-metadata.js';

export interface JwtVerificationDependencies {
  logger: Logger;
  fetch?: FetchLike | undefined;
  now: () => number;
  /** Told after every JWKS fetch attempt (metrics). */
  onKeysRefreshed?: ((issuer: string, ok: boolean) => void) | undefined;
}

/** Signature and claims of one issuer's JWT access tokens, checked locally with its keys. */
export interface JwtVerification {
  keys: IssuerKeys;
  /**
   * Checks signature, `iss`, `exp`/`nbf`, algorithm and `typ`, and the audience.
   * @throws GatewayError `token_invalid` with a `tokenRejection` reason
   */
  verify(token: string): Promise<JWTPayload>;
}

/** Everything about the issuer (keys, algorithms, audiences) is built once here, not per request. */
export function createJwtVerification(
  server: AuthorizationServerConfig,
  acceptsAudience: (aud: unknown) => boolean,
  deps: JwtVerificationDependencies,
): JwtVerification {
  const keys = new IssuerKeys({
    issuer: server.issuer,
    ...(server.jwksUri ? { jwksUri: server.jwksUri } : {}),
    timeoutMs: server.metadataTimeoutMs,
    cooldownMs: server.jwksCooldownSeconds * 1000,
    refreshIntervalMs: server.jwksRefreshIntervalSeconds * 1000,
    logger: deps.logger,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.onKeysRefreshed ? { onRefresh: deps.onKeysRefreshed } : {}),
    now: deps.now,
  });
  const secret = server.sharedSecret ? new TextEncoder().encode(server.sharedSecret) : undefined;
  // HS* tokens are checked with the shared secret, everything else with the JWKS;
  // the algorithm allow-list decides which of the two a token may use at all.
  const getKey: JWTVerifyGetKey = (header, token) => (secret && header.alg?.startsWith('HS') ? secret : keys.getKey(header, token));
  return { keys, verify: createJwtCheck({ ...server, getKey }, acceptsAudience, deps.now) };
}

/**
 * The same checks with keys held in memory (the authorization server facade's key ring): no JWKS
 * to fetch, so no IssuerKeys.
 */
export function createLocalJwtVerification(
  options: JwtCheckOptions,
  acceptsAudience: (aud: unknown) => boolean,
  now: () => number,
): Pick<JwtVerification, 'verify'> {
  return { verify: createJwtCheck(options, acceptsAudience, now) };
}

interface JwtCheckOptions {
  issuer: string;
  getKey: JWTVerifyGetKey;
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  requireAccessTokenType: boolean;
}

/** Signature, `iss`, `exp`/`nbf`, algorithm, `typ` and audience, with the verify options built once. */
function createJwtCheck(options: JwtCheckOptions, acceptsAudience: (aud: unknown) => boolean, now: () => number): JwtVerification['verify'] {
  const verifyOptions: Parameters<typeof jwtVerify>[2] = {
    issuer: options.issuer,
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['exp', 'iss', 'aud'],
    ...(options.requireAccessTokenType ? { typ: 'at+jwt' } : {}),
  };
  return async function verifyJwt(token) {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, options.getKey, { ...verifyOptions, currentDate: new Date(now()) }));
    } catch (error) {
      throw toRejection(error);
    }
    if (!acceptsAudience(payload.aud)) throw rejectToken('wrong_audience', 'token aud does not name this resource');
    return payload;
  };
}

/** jose error → rejection reason. Anything unexpected is still a 401 (fail closed), never a 500. */
function toRejection(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof joseErrors.JWTExpired) return rejectToken('expired', 'token expired', error);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const byClaim: Record<string, TokenRejectionReason> = { nbf: 'not_yet_valid', iat: 'not_yet_valid', iss: 'wrong_issuer', typ: 'wrong_type' };
    // A claim of the wrong type ('invalid') is a malformed token, whichever claim it is.
    const reason = error.reason === 'missing' ? 'missing_claim' : error.reason === 'invalid' ? 'malformed' : (byClaim[error.claim] ?? 'malformed');
    return rejectToken(reason, `claim ${error.claim} ${error.reason}`, error);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return rejectToken('algorithm_not_allowed', 'token algorithm not allowed', error);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return rejectToken('unknown_key', 'no key matches the token kid', error);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKInvalid) {
    return rejectToken('bad_signature', 'signature verification failed', error);
  }
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
    return rejectToken('malformed', 'token is malformed', error);
  }
  return rejectToken('keys_unavailable', 'token could not be verified', error);
}
