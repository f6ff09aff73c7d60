import type { Principal } from '../auth/index.js';
import { ConfigError, identityHeaderNames, type IdentityConfig } from '../config/index.js';
import { loadSigningKey } from '../keys/index.js';
import { compileClaimTemplate, type ClaimTemplate } from './claim-template.js';
import { createIdentityJwtSigner } from './identity-jwt.js';
import { loadKeyRing, type KeyRing } from './key-ring.js';

/** Where the gateway serves the public keys of its identity JWTs (RFC 8414-style well-known name). */
export const IDENTITY_JWKS_PATH = '/.well-known/jwks.json';

export interface IdentityPropagation {
  /** Lowercased names of the headers the gateway sets; the same headers sent by the client are dropped. */
  readonly headerNames: ReadonlySet<string>;
  /** The identity headers (and identity JWT) for one upstream request. */
  headersFor(principal: Principal): Promise<Record<string, string>>;
  /** The JWKS to publish; undefined when no identity JWT is configured. */
  readonly keyRing: KeyRing | undefined;
}

export interface IdentityPropagationOptions {
  /** resource.url: its origin is the default `iss` of the identity JWT. */
  resourceUrl: string;
  /** upstream.url: the default `aud`. */
  upstreamUrl: string;
  now?: () => number;
}

/**
 * Identity propagation, built once from the config: header templates compiled, keys parsed and
 * checked (a ring with no active key fails here, at start-up).
 */
export function createIdentityPropagation(config: IdentityConfig, options: IdentityPropagationOptions): IdentityPropagation {
  const now = options.now ?? Date.now;
  const templates: Array<[string, ClaimTemplate]> = Object.entries(config.headers).map(([name, template]) => [
    name.toLowerCase(),
    compileClaimTemplate(template),
  ]);
  const jwtConfig = config.jwt;
  const keyRing = jwtConfig
    ? loadKeyRing(jwtConfig.keys, { retiredPublishMs: jwtConfig.retiredKeyPublishSeconds * 1000, now, configPath: 'identity.jwt.keys' })
    : undefined;
  const signer =
    jwtConfig && keyRing
      ? createIdentityJwtSigner({
          issuer: jwtConfig.issuer ?? new URL(options.resourceUrl).origin,
          audience: jwtConfig.audience ?? options.upstreamUrl,
          ttlSeconds: jwtConfig.ttlSeconds,
          keyRing,
          now,
        })
      : undefined;
  const jwtHeader = jwtConfig?.header.toLowerCase();

  return {
    headerNames: new Set(identityHeaderNames(config)),
    keyRing,
    async headersFor(principal) {
      const headers: Record<string, string> = {};
      for (const [name, template] of templates) {
        const value = template(principal);
        if (value !== undefined) headers[name] = value;
      }
      if (signer && jwtHeader) headers[jwtHeader] = (await signer.sign(principal)).jwt;
      return headers;
    },
  };
}
