/**
 * RFC 8693 token exchange for the demo authorization server. oidc-provider 9 has no built-in
 * token exchange grant; this registers one with `provider.registerGrantType`, issuing tokens
 * through oidc-provider's own AccessToken model (same format, keys and TTL handling as every
 * other token it issues).
 *
 * What it accepts: an access token this AS issued (a JWT, verified with the AS's own keys) for
 * an audience the requesting client is allowed to exchange (the gateway's resource), and exactly
 * one target (`resource` or `audience`) that is a configured resource. The issued token has the
 * user's `sub`, scopes no wider than the subject token's, an expiry no later than the subject
 * token's, and an `act` claim naming the requesting client as the current actor and the subject
 * token's client as the prior one (RFC 8693 §4.1).
 */
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
// @ts-ignore TS7016: untyped module (see authorization-server.ts)
import { errors as oidcErrors } from 'oidc-provider';

export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type identifiers accepted for the subject token and issued. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const SUBJECT_TOKEN_TYPES = new Set([ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE]);

/** RFC 8693 §2.1 request parameters; `resource` and `audience` may repeat. */
const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
];
const REPEATABLE = ['resource', 'audience'];

/** Which client may exchange user tokens issued for which audiences. */
export interface TokenExchangeRule {
  clientId: string;
  /** `aud` values of subject tokens this client may exchange, e.g. the gateway's resource URL. */
  subjectAudiences: string[];
}

type OidcError = new (description?: string) => Error;
const errors = oidcErrors as Record<string, OidcError> & {
  InvalidRequest: new (description: string) => Error;
  InvalidScope: new (description: string, scope?: string) => Error;
  InvalidGrant: new (detail?: string) => Error;
};

interface ExchangeContext {
  oidc: {
    params: Record<string, string | string[] | undefined>;
    client: { clientId: string };
  };
  body?: unknown;
}

interface AccessTokenModel {
  resourceServer: unknown;
  readonly expiration: number;
  save(): Promise<string>;
}

export interface TokenExchangeProvider {
  registerGrantType(name: string, handler: (ctx: ExchangeContext) => Promise<void>, params: string[], dupes: string[]): void;
  AccessToken: new (init: Record<string, unknown>) => AccessTokenModel;
  ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
}

export interface TokenExchangeInputs {
  issuer: string;
  rules: readonly TokenExchangeRule[];
  /** Public keys of the AS (every key it signs or signed with). */
  publicKeys: () => JWK[];
  /** Scopes of a configured resource, undefined for an unknown one. */
  resourceScopes: (resource: string) => readonly string[] | undefined;
  /** oidc-provider resource server info for a configured resource (format, TTL, signing). */
  resourceServerInfo: (resource: string) => Record<string, unknown> & { accessTokenTTL: number };
  /** Extra claims for a token, read by the provider's `extraTokenClaims` hook. */
  extraClaims: WeakMap<object, Record<string, unknown>>;
}

export function registerTokenExchangeGrant(provider: TokenExchangeProvider, inputs: TokenExchangeInputs): void {
  const rules = new Map(inputs.rules.map((rule) => [rule.clientId, new Set(rule.subjectAudiences)]));

  async function tokenExchangeHandler(ctx: ExchangeContext): Promise<void> {
    const { params, client } = ctx.oidc;
    const exchangeableAudiences = rules.get(client.clientId);
    if (!exchangeableAudiences) throw new errors.UnauthorizedClient!('client is not allowed to exchange tokens');

    const subjectToken = single(params.subject_token, 'subject_token');
    const subjectTokenType = single(params.subject_token_type, 'subject_token_type');
    if (!SUBJECT_TOKEN_TYPES.has(subjectTokenType)) throw new errors.InvalidRequest('unsupported subject_token_type');
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported');
    const requestedType = params.requested_token_type;
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('only access tokens can be requested');
    }

    // The target is checked before the subject token, so a client with a wrong target learns
    // it from any request (the gateway probes with an invalid subject token at start-up).
    const targets = [...list(params.resource), ...list(params.audience)];
    if (targets.length !== 1) throw new errors.InvalidTarget!('exactly one resource or audience is required');
    const target = targets[0]!;
    const targetScopes = inputs.resourceScopes(target);
    if (!targetScopes) throw new errors.InvalidTarget!('unknown resource or audience');

    const subject = await verifySubjectToken(subjectToken);
    const audiences = typeof subject.aud === 'string' ? [subject.aud] : (subject.aud ?? []);
    if (!audiences.some((aud) => exchangeableAudiences.has(aud))) {
      throw new errors.InvalidGrant('subject_token was not issued for an audience this client may exchange');
    }

    // Down-scoping only: never more than the user granted, and only what the target knows.
    const subjectScopes = new Set(typeof subject.scope === 'string' ? subject.scope.split(' ') : []);
    const allowed = targetScopes.filter((scope) => subjectScopes.has(scope));
    const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : allowed;
    const excess = requested.filter((scope) => !allowed.includes(scope));
    if (excess.length > 0) throw new errors.InvalidScope('requested scope exceeds the subject token', excess.join(' '));
    if (requested.length === 0) throw new errors.InvalidScope('no scope of the subject token applies to the target');

    const info = inputs.resourceServerInfo(target);
    const remainingSeconds = (subject.exp as number) - Math.floor(Date.now() / 1000);
    const token = new provider.AccessToken({
      accountId: subject.sub,
      client,
      gty: 'token_exchange',
      scope: requested.join(' '),
      expiresIn: Math.min(info.accessTokenTTL, remainingSeconds),
    });
    token.resourceServer = new provider.ResourceServer(target, info);
    // RFC 8693 §4.1: the requesting client acts now; the client the user authorized acted before.
    const priorActor = subject.act ?? (typeof subject.client_id === 'string' ? { sub: subject.client_id } : undefined);
    inputs.extraClaims.set(token, { act: { sub: client.clientId, ...(priorActor ? { act: priorActor } : {}) } });

    const accessToken = await token.save();
    ctx.body = {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: requested.join(' '),
    };
  }

  async function verifySubjectToken(token: string): Promise<JWTPayload & { sub: string; exp: number }> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: inputs.publicKeys() }), {
        issuer: inputs.issuer,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'aud'],
      });
      return payload as JWTPayload & { sub: string; exp: number };
    } catch {
      throw new errors.InvalidGrant('subject_token is invalid or expired');
    }
  }

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT_TYPE, tokenExchangeHandler, PARAMETERS, REPEATABLE);
}

function single(value: string | string[] | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new errors.InvalidRequest(`missing ${name}`);
  return value;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
