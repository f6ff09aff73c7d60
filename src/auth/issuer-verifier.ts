import type { JWTVerifyGetKey } from 'jose';
import type { AuthorizationServerConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createAudienceMatcher } from './audience.js';
import { buildClaimMapping } from './claim-mapping.js';
import { IntrospectionClient } from './introspection-client.js';
import { createIntrospectionVerification, type IntrospectionVerification } from './introspection-verification.js';
import type { IssuerKeys } from './issuer-keys.js';
import type { FetchLike } from './issuer-metadata.js';
import { createJwtVerification, createLocalJwtVerification } from './jwt-verification.js';
import { buildPrincipal, type Principal } from './principal.js';

/** What `/readyz` shows for one authorization server. */
export type IssuerState = {
  status: 'pending' | 'ready';
  /** Where its keys come from (JWT verification). */
  jwksUri?: string;
  /** Where opaque tokens are checked (introspection). */
  introspectionEndpoint?: string;
  lastError?: string;
};

/** One authorization server's readiness: its keys fetched and/or its introspection endpoint working. */
export interface IssuerStatus {
  readonly issuer: string;
  readonly state: IssuerState;
  /** Resolves once every part of this issuer (keys, introspection) is ready. */
  whenReady(): Promise<void>;
  /** Fetches the keys and probes the introspection endpoint now (tests, diagnostics). */
  refresh(): Promise<void>;
}

/** A verified token and how long its principal may be reused from the token cache. */
export interface VerifiedToken {
  principal: Principal;
  /** Upper bound for the cache entry, in ms (the token's `exp` bounds it too). */
  cacheForMs: number;
}

/** Everything the gateway knows how to do with one issuer's tokens, built once at start-up. */
export interface IssuerVerifier extends IssuerStatus {
  /** A JWT whose `iss` names this issuer: its signature (JWKS), or introspection when the issuer is introspection-only. */
  verifyJwt(token: string, tokenHash: string): Promise<VerifiedToken>;
  /** An opaque token, when this issuer has introspection; undefined otherwise. */
  readonly introspect: ((token: string, tokenHash: string) => Promise<VerifiedToken>) | undefined;
  start(): void;
  stop(): void;
}

export interface IssuerVerifierDependencies {
  /** Audiences accepted when the issuer lists none: the resource URL. */
  defaultAudiences: readonly string[];
  /** The token cache's bounds (entries, and the longest reuse in ms). */
  cache: { maxEntries: number; maxTtlMs: number };
  logger: Logger;
  fetch?: FetchLike | undefined;
  now: () => number;
  onKeysRefreshed?: ((issuer: string, ok: boolean) => void) | undefined;
}

export function createIssuerVerifier(server: AuthorizationServerConfig, deps: IssuerVerifierDependencies): IssuerVerifier {
  const acceptsAudience = createAudienceMatcher(server.audiences ?? deps.defaultAudiences);
  const mapping = buildClaimMapping(server.claimMapping);
  const introspectionConfig = server.introspection;
  const jwt = introspectionConfig?.introspectJwts ? undefined : createJwtVerification(server, acceptsAudience, deps);
  const introspection: IntrospectionVerification | undefined = introspectionConfig
    ? createIntrospectionVerification({
        issuer: server.issuer,
        client: new IntrospectionClient({
          issuer: server.issuer,
          endpoint: introspectionConfig.endpoint,
          clientId: introspectionConfig.clientId,
          clientSecret: introspectionConfig.clientSecret,
          clientAuthentication: introspectionConfig.clientAuthentication,
          timeoutMs: introspectionConfig.timeoutMs,
          failureCooldownMs: introspectionConfig.failureCooldownMs,
          maxConcurrentRequests: introspectionConfig.maxConcurrentRequests,
          logger: deps.logger,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
          now: deps.now,
        }),
        config: introspectionConfig,
        acceptsAudience,
        mapping,
        clockToleranceSeconds: server.clockToleranceSeconds,
        maxRejectedEntries: deps.cache.maxEntries,
        assumedLifetimeSeconds: introspectionConfig.cacheMaxSeconds,
        now: deps.now,
      })
    : undefined;

  const jwtCacheMs = deps.cache.maxTtlMs;
  const introspectionCacheMs = Math.min(deps.cache.maxTtlMs, (introspectionConfig?.cacheMaxSeconds ?? 0) * 1000);
  const introspect = introspection
    ? async (token: string, tokenHash: string): Promise<VerifiedToken> => ({
        principal: await introspection.verify(token, tokenHash),
        cacheForMs: introspectionCacheMs,
      })
    : undefined;
  const parts: Array<IssuerKeys | IntrospectionClient> = [...(jwt ? [jwt.keys] : []), ...(introspection ? [introspection.client] : [])];
  const ready = Promise.all(parts.map((part) => part.whenReady())).then(() => undefined);

  return {
    issuer: server.issuer,
    get state(): IssuerState {
      const keys = jwt?.keys.state;
      const endpoint = introspection?.client.state;
      const lastError = [keys?.lastError, endpoint?.lastError].filter(Boolean).join('; ');
      return {
        status: parts.every((part) => part.state.status === 'ready') ? 'ready' : 'pending',
        ...(keys?.jwksUri ? { jwksUri: keys.jwksUri } : {}),
        ...(endpoint?.introspectionEndpoint ? { introspectionEndpoint: endpoint.introspectionEndpoint } : {}),
        ...(lastError ? { lastError } : {}),
      };
    },
    whenReady: () => ready,
    refresh: async () => {
      await Promise.all(parts.map((part) => part.refresh()));
    },
    async verifyJwt(token, tokenHash) {
      if (!jwt) return introspect!(token, tokenHash);
      const payload = await jwt.verify(token);
      return {
        principal: buildPrincipal({ issuer: server.issuer, claims: payload, mapping, expiresAt: payload.exp as number, tokenHash, authenticationMethod: 'jwt' }),
        cacheForMs: jwtCacheMs,
      };
    },
    introspect,
    start: () => parts.forEach((part) => part.start()),
    stop: () => parts.forEach((part) => part.stop()),
  };
}

/** An issuer whose keys are in this process (the authorization server facade) rather than behind a JWKS URL. */
export interface LocalIssuer {
  issuer: string;
  getKey: JWTVerifyGetKey;
  audiences: readonly string[];
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  requireAccessTokenType: boolean;
}

/**
 * A local issuer's tokens, verified like any issuer's (signature, iss, exp, algorithm, typ,
 * audience; standard claim mapping), with nothing to fetch: always ready.
 */
export function createLocalIssuerVerifier(local: LocalIssuer, deps: { maxTtlMs: number; now: () => number }): IssuerVerifier {
  const jwt = createLocalJwtVerification(local, createAudienceMatcher(local.audiences), deps.now);
  const mapping = buildClaimMapping();
  return {
    issuer: local.issuer,
    state: { status: 'ready' },
    whenReady: async () => undefined,
    refresh: async () => undefined,
    async verifyJwt(token, tokenHash) {
      const payload = await jwt.verify(token);
      return {
        principal: buildPrincipal({ issuer: local.issuer, claims: payload, mapping, expiresAt: payload.exp as number, tokenHash, authenticationMethod: 'jwt' }),
        cacheForMs: deps.maxTtlMs,
      };
    },
    introspect: undefined,
    start: () => undefined,
    stop: () => undefined,
  };
}
