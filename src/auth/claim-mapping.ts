import { rejectToken } from './token-rejection.js';
/**
 * Where an issuer puts who the caller is and what it may do. Providers disagree: Okta names the
 * client `cid` and sends `scp` as an array, Entra v1.0 names it `appid` and puts app permissions
 * in `roles`, Auth0 adds RBAC `permissions`, Keycloak nests realm roles in `realm_access.roles`.
 * Each `authorizationServers[]` entry says where to look; the defaults are the standard claims.
 */

/** Claim names or dotted paths, per principal field (the `claimMapping` config section). */
export interface ClaimMappingConfig {
  /** First of these that holds a string is the subject; default `sub`. */
  subject: readonly string[];
  /** First of these that holds a string is the client id; default `client_id`, `azp`. */
  clientId: readonly string[];
  /** First of these that is present holds the scopes (space-separated string or array); default `scope`, `scp`. */
  scopes: readonly string[];
  /** Claims whose values are added to the scopes (Entra `roles`, Auth0 `permissions`); default none. */
  additionalScopes: readonly string[];
  /**
   * Prepended to each scope read from `scopes` (not `additionalScopes`): Entra tokens carry
   * `tickets.read` where clients must request `api://<app>/tickets.read`.
   */
  scopePrefix?: string | undefined;
}

export const DEFAULT_CLAIM_MAPPING: ClaimMappingConfig = Object.freeze({
  subject: Object.freeze(['sub']),
  clientId: Object.freeze(['client_id', 'azp']),
  scopes: Object.freeze(['scope', 'scp']),
  additionalScopes: Object.freeze([]),
});

/** Reads the principal's fields from verified claims (a JWT payload or an introspection response). */
export interface ClaimMapping {
  /** @throws GatewayError token_invalid (malformed) when the subject claim is present but not a string */
  subject(claims: ClaimSet): string | undefined;
  clientId(claims: ClaimSet): string | undefined;
  scopes(claims: ClaimSet): Set<string>;
}

export type ClaimSet = Readonly<Record<string, unknown>>;

type ClaimReader = (claims: ClaimSet) => unknown;

/**
 * Compiles a mapping once, at start-up. A name is looked up as a top-level claim first (so
 * namespaced claims such as `https://example.com/roles` work), then as a dotted path into
 * nested objects (`realm_access.roles`).
 */
export function buildClaimMapping(config: ClaimMappingConfig = DEFAULT_CLAIM_MAPPING): ClaimMapping {
  const subject = config.subject.map(buildClaimReader);
  const clientId = config.clientId.map(buildClaimReader);
  const scopes = config.scopes.map(buildClaimReader);
  const additional = config.additionalScopes.map(buildClaimReader);
  const prefix = config.scopePrefix ?? '';
  return {
    subject(claims) {
      // RFC 7519 §4.1.2: a StringOrURI. A present subject of another type must not fall
      // back to the client id: every such user would become one principal (one rate
      // limit, each other's bound sessions).
      for (const read of subject) {
        const value = read(claims);
        if (value === undefined) continue;
        if (typeof value !== 'string' || value === '') throw rejectToken('malformed', 'token subject is not a string');
        return value;
      }
      return undefined;
    },
    clientId: (claims) => firstString(clientId, claims),
    scopes(claims) {
      const granted = new Set<string>();
      const primary = scopes.map((read) => read(claims)).find((value) => value !== undefined && value !== null);
      addScopes(granted, primary, prefix);
      for (const read of additional) addScopes(granted, read(claims), '');
      return granted;
    },
  };
}

function buildClaimReader(name: string): ClaimReader {
  const path = name.split('.');
  if (path.length === 1) return (claims) => (Object.hasOwn(claims, name) ? claims[name] : undefined);
  return (claims) => {
    if (Object.hasOwn(claims, name)) return claims[name];
    let value: unknown = claims;
    for (const segment of path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
    return value;
  };
}

function firstString(readers: readonly ClaimReader[], claims: ClaimSet): string | undefined {
  for (const read of readers) {
    const value = read(claims);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** A space-separated string (RFC 6749 §3.3) or an array of scope strings; anything else adds nothing. */
function addScopes(granted: Set<string>, value: unknown, prefix: string): void {
  const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
  for (const scope of list) {
    if (typeof scope !== 'string' || scope === '') continue;
    granted.add(prefix && !scope.startsWith(prefix) ? `${prefix}${scope}` : scope);
  }
}
