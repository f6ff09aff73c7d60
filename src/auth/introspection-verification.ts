import { LRUCache } from 'lru-cache';
import type { IntrospectionConfig } from '../config/index.js';
import { GatewayError, type TokenRejectionReason } from '../errors/index.js';
import type { ClaimMapping } from './claim-mapping.js';
import type { IntrospectionClient, IntrospectionResponse } from './introspection-client.js';
import { rejectToken } from './token-rejection.js';
import { buildPrincipal, type Principal } from './principal.js';

export interface IntrospectionVerificationOptions {
  issuer: string;
  client: IntrospectionClient;
  config: Pick<IntrospectionConfig, 'allowMissingAudience' | 'inactiveCacheSeconds'>;
  acceptsAudience: (aud: unknown) => boolean;
  mapping: ClaimMapping;
  clockToleranceSeconds: number;
  /** Bound on remembered refusals (the token cache's bound). */
  maxRejectedEntries: number;
  /** Expiry assumed for an active response without `exp`, in seconds from now (the cache bound). */
  assumedLifetimeSeconds: number;
  now: () => number;
}

/** Refusals remembered for `inactiveCacheSeconds`: definitive answers about the token itself. */
const REMEMBERED_REFUSALS: ReadonlySet<TokenRejectionReason> = new Set(['inactive', 'wrong_audience', 'wrong_issuer', 'wrong_type', 'expired']);

/** Checks one issuer's tokens by RFC 7662 introspection and turns an active answer into a principal. */
export interface IntrospectionVerification {
  client: IntrospectionClient;
  /**
   * @param tokenHash SHA-256 of the token (base64url): the key of the refusal cache and of in-flight requests
   * @throws GatewayError `token_invalid` (reason `inactive`, `wrong_audience`…) or `introspection_unavailable`
   */
  verify(token: string, tokenHash: string): Promise<Principal>;
}

/**
 * The checks a resource server owes an introspection answer (RFC 7662 §2.2, §4): `active` must
 * be true; `iss`, when present, must be this issuer (a shared endpoint must not vouch for another
 * issuer's tokens); `aud` must name an accepted audience (its absence refuses the token unless
 * allowed); `exp`/`nbf` are checked against our own clock; a `token_type` other than Bearer (a
 * refresh or DPoP-bound token) is refused.
 *
 * Refusals are remembered for a few seconds (bounded, keyed by the token's hash): a client or a
 * script repeating a revoked token would otherwise cost one round trip to the issuer per request,
 * and a spray of one dead token could hammer the endpoint. Failures to ask (503) are not
 * remembered here; the client's cooldown handles those. Concurrent requests with the same token
 * share one introspection.
 */
export function createIntrospectionVerification(options: IntrospectionVerificationOptions): IntrospectionVerification {
  const { issuer, client, config, mapping, now } = options;
  const rejected =
    config.inactiveCacheSeconds > 0 && options.maxRejectedEntries > 0
      ? new LRUCache<string, { reason: TokenRejectionReason; untilMs: number }>({ max: options.maxRejectedEntries })
      : undefined;
  const inFlight = new Map<string, Promise<Principal>>();
  const toleranceSeconds = options.clockToleranceSeconds;

  function buildFrom(response: IntrospectionResponse, tokenHash: string): Principal {
    if (!response.active) throw rejectToken('inactive', `introspection at ${issuer} answered active: false`);
    const { active: _active, ...claims } = response;
    if (claims.iss !== undefined && claims.iss !== issuer) throw rejectToken('wrong_issuer', 'introspection iss is not this issuer');
    if (claims.aud === undefined ? !config.allowMissingAudience : !options.acceptsAudience(claims.aud)) {
      throw rejectToken('wrong_audience', claims.aud === undefined ? 'introspection response has no aud' : 'introspection aud does not name this resource');
    }
    if (typeof claims.token_type === 'string' && claims.token_type.toLowerCase() !== 'bearer') {
      throw rejectToken('wrong_type', 'introspected token is not a Bearer access token');
    }
    const nowSeconds = now() / 1000;
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    if (exp !== undefined && exp + toleranceSeconds <= nowSeconds) throw rejectToken('expired', 'introspected token expired');
    if (typeof claims.nbf === 'number' && claims.nbf - toleranceSeconds > nowSeconds) {
      throw rejectToken('not_yet_valid', 'introspected token not yet valid');
    }
    return buildPrincipal({
      issuer,
      claims,
      mapping,
      expiresAt: exp ?? Math.floor(nowSeconds) + options.assumedLifetimeSeconds,
      tokenHash,
      authenticationMethod: 'introspection',
    });
  }

  async function introspect(token: string, tokenHash: string): Promise<Principal> {
    const response = await client.introspect(token);
    try {
      return buildFrom(response, tokenHash);
    } catch (error) {
      const reason = (error as GatewayError).tokenRejection;
      if (rejected && reason && REMEMBERED_REFUSALS.has(reason)) {
        rejected.set(tokenHash, { reason, untilMs: now() + config.inactiveCacheSeconds * 1000 }, { ttl: config.inactiveCacheSeconds * 1000 });
      }
      throw error;
    }
  }

  return {
    client,
    verify(token, tokenHash) {
      const refusal = rejected?.get(tokenHash);
      if (refusal && refusal.untilMs > now()) {
        return Promise.reject(rejectToken(refusal.reason, `refused by introspection at ${issuer} moments ago`));
      }
      let pending = inFlight.get(tokenHash);
      if (!pending) {
        pending = introspect(token, tokenHash).finally(() => inFlight.delete(tokenHash));
        inFlight.set(tokenHash, pending);
      }
      return pending;
    },
  };
}

export function isIntrospectionUnavailable(error: unknown): error is GatewayError {
  return error instanceof GatewayError && error.code === 'introspection_unavailable';
}
