/**
 * A real, local OAuth 2.1 authorization server for `npm run demo` and the integration tests,
 * built on oidc-provider v9. No mocks: tokens come out of the same code paths a production
 * oidc-provider deployment uses; only the end-user interaction (login + consent) is headless.
 *
 * Listens on 127.0.0.1 only. Everything (clients, grants, sessions) lives in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
} from 'jose';
// oidc-provider ships no type declarations and @types/oidc-provider is not a dependency;
// the narrow interfaces below describe the part of its API this module uses. `@ts-ignore`
// (not `@ts-expect-error`) so the line keeps compiling if declarations are added later.
// @ts-ignore TS7016: untyped module
import Provider, { errors as oidcErrors } from 'oidc-provider';
import { registerTokenExchangeGrant, type TokenExchangeProvider, type TokenExchangeRule } from './token-exchange-grant.js';

/** Signing algorithms the demo AS can use for JWT access tokens and ID tokens. */
export type DemoSigningAlg = 'ES256' | 'RS256';

/**
 * RFC 7591 client metadata of a pre-registered (static) client, as oidc-provider accepts it.
 * A client_credentials-only client needs `grant_types: ['client_credentials']`,
 * `response_types: []` and `redirect_uris: []`.
 */
export interface ClientMetadata {
  client_id: string;
  client_secret?: string;
  grant_types?: string[];
  response_types?: string[];
  redirect_uris?: string[];
  token_endpoint_auth_method?: string;
  scope?: string;
  [property: string]: unknown;
}

export interface DemoAuthorizationServerOptions {
  /** TCP port; default 0 (ephemeral). The host is always 127.0.0.1. */
  port?: number;
  /**
   * Resource servers (RFC 8707 resource indicators) this AS mints JWT access tokens for.
   * The token `aud` is the resource string exactly, or `audience` when given (identity
   * providers that put a fixed API identifier or client id there); only these scopes can
   * be granted for it. `accessTokenTtlSeconds` overrides the lifetime of tokens for this resource.
   * `accessTokenFormat: 'opaque'` issues random access tokens instead of JWTs, which only the AS
   * itself can check (RFC 7662 introspection, see `introspection`); default `jwt`.
   */
  resources: Array<{ resource: string; scopes: string[]; audience?: string; accessTokenTtlSeconds?: number; accessTokenFormat?: 'jwt' | 'opaque' }>;
  /** Access token lifetime in seconds (user and client_credentials tokens); default 600. */
  accessTokenTtlSeconds?: number;
  /**
   * The demo user that is logged in without a browser; default sub "demo-user".
   * `claims` (e.g. groups, tenant) are copied into that user's access tokens.
   */
  user?: { sub: string; claims?: Record<string, unknown> };
  /** Default ES256. */
  signingAlg?: DemoSigningAlg;
  /** Pre-registered clients, e.g. a confidential client_credentials client. */
  clients?: ClientMetadata[];
  /**
   * The issuer identifier, from the bound origin (`http://127.0.0.1:PORT`); default: the origin.
   * A path (`origin => origin + '/realms/mcp'`) mounts every endpoint under it, as Keycloak,
   * Okta and Entra ID do; a trailing slash is kept in the identifier (Auth0). It may name
   * another host (`() => 'https://sts.windows.net/<tenant>/'`): tokens then carry that `iss`
   * while the endpoints stay on 127.0.0.1 under the issuer's path, so a verifier needs the
   * JWKS URL given explicitly ({@link DemoAuthorizationServer.jwksUri}).
   */
  issuer?: (origin: string) => string;
  /**
   * Reshapes each JWT access token before it is signed, the way an identity provider's own
   * format differs: `header.typ = 'JWT'`, `scope` moved to `scp`, `client_id` renamed `cid`…
   * The header holds what is added to the AS's own (`alg`, `kid`, `typ: at+jwt`); a key set
   * to `undefined` is left out.
   */
  shapeAccessToken?: (token: { header: Record<string, unknown>; payload: Record<string, unknown> }) => void;
  /**
   * Accept Auth0's `audience` authorization parameter in place of `resource` (it must name a
   * configured resource). A request with neither then gets an opaque access token, as Auth0
   * issues for its userinfo endpoint only; default false.
   */
  audienceParameter?: boolean;
  /**
   * RFC 8693 token exchange (`urn:ietf:params:oauth:grant-type:token-exchange`): which client
   * may exchange user tokens issued for which audiences into tokens for another configured
   * resource. The client must also list the grant type in its `grant_types`. Default: none.
   */
  tokenExchange?: TokenExchangeRule[];
  /**
   * Dynamic client registration (RFC 7591) at `/register`; default true. False makes the AS an
   * identity provider the way Entra ID, Google and Okta's org server are: clients must be
   * pre-registered (`clients`).
   */
  dynamicRegistration?: boolean;
  /**
   * OpenID scopes and the user claims each puts into the ID token, e.g. `{ email: ['email'],
   * groups: ['groups'] }` (the values come from `user.claims`). Put into the ID token itself, not
   * only at userinfo, as Entra ID does for `groups`. Default: only `openid` (`sub`).
   */
  idTokenClaims?: Record<string, string[]>;
  /**
   * Serve RFC 7662 token introspection and RFC 7009 revocation at {@link DemoAuthorizationServer.introspectionEndpoint}
   * and `/revoke`, both for confidential clients only (a pre-registered client with a secret). Any
   * such client may introspect or revoke any token, as a resource server or an administrator
   * would. Default false.
   */
  introspection?: boolean;
}

/** One request to the token endpoint, as the AS saw it (no token or secret is kept). */
export interface TokenRequestRecord {
  grantType: string | undefined;
  /** The authenticated client; undefined when client authentication failed. */
  clientId: string | undefined;
  /** OAuth error code when the request was refused. */
  error?: string;
}

export interface DemoAuthorizationServer {
  /** The issuer identifier; by default http://127.0.0.1:PORT (no trailing slash). */
  issuer: string;
  /** Where the endpoints are: http://127.0.0.1:PORT plus the issuer's path. */
  baseUrl: string;
  jwksUri: string;
  /**
   * Generates a new signing key; new tokens are signed with it and the JWKS serves the new and
   * all old keys. Keeps the port, the registered clients, grants and sessions.
   */
  rotateSigningKey(): Promise<void>;
  /** The private key currently used for signing, so tests can craft edge-case tokens. */
  currentSigningKey(): { key: CryptoKey; kid: string; alg: string };
  /**
   * Runs the full real flow: DCR of a public client, authorization code + PKCE S256 with
   * `resource`, headless login + consent of the demo user, code → token exchange.
   * Throws {@link DemoOAuthError} (e.g. code `invalid_target` for an unknown resource).
   */
  obtainUserToken(opts: UserTokenRequest): Promise<{ accessToken: string; refreshToken?: string }>;
  /** Every token endpoint request since start, in order (successful and refused). */
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** The RFC 7662 endpoint (served when the `introspection` option is on). */
  introspectionEndpoint: string;
  /** The RFC 7009 endpoint (served when the `introspection` option is on). */
  revocationEndpoint: string;
  /** Requests to the introspection endpoint since start (answered or not). */
  readonly introspectionRequests: number;
  /**
   * Simulates an outage: stops listening (new connections are refused) and drops open ones.
   * Everything else (keys, clients, grants) is kept for {@link resume}.
   */
  suspend(): Promise<void>;
  /** Listens again on the same port after {@link suspend}. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface UserTokenRequest {
  /** RFC 8707 resource indicator; omitted from the requests when absent. */
  resource?: string;
  scope: string;
  /** Extra authorization request parameters, e.g. `{ audience }` for an Auth0-shaped AS. */
  params?: Record<string, string>;
}

/** An OAuth error returned by the demo AS (or a broken headless flow), with its wire code. */
export class DemoOAuthError extends Error {
  readonly code: string;

  constructor(code: string, description?: string) {
    super(description ? `${code}: ${description}` : code);
    this.name = 'DemoOAuthError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// The slice of oidc-provider's API used here (see node_modules/oidc-provider/lib/provider.js).

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

interface OidcInteraction {
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}

interface OidcProvider extends TokenExchangeProvider {
  callback(): NodeListener;
  on(event: 'grant.success', listener: (ctx: OidcTokenContext) => void): void;
  on(event: 'grant.error', listener: (ctx: OidcTokenContext, error: { error?: string }) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): OidcGrant;
    find(id: string): Promise<OidcGrant | undefined>;
  };
}

type OidcProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
const OidcProviderClass = Provider as unknown as OidcProviderConstructor;
const InvalidTarget = (oidcErrors as { InvalidTarget: new (description?: string) => Error }).InvalidTarget;

interface OidcTokenContext {
  oidc?: { params?: { grant_type?: unknown }; client?: { clientId: string } };
}

/** Minimal view of the oidc-provider token models handed to configuration hooks. */
interface OidcTokenLike {
  accountId?: string;
  resourceServer?: { accessTokenTTL?: number };
}
interface OidcClientLike {
  clientAuthMethod: string;
  redirectUris: string[];
  grantTypeAllowed(grantType: string): boolean;
}

// ---------------------------------------------------------------------------------------------
// Options

const HOST = '127.0.0.1';
const INTERACTION_PATH = '/interaction/';
/** MCP 2025-03-26 clients fall back to /authorize, /token, /register without AS metadata. */
const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  registration: '/register',
  jwks: '/jwks',
  introspection: '/introspect',
  revocation: '/revoke',
};
const REFRESH_TOKEN_TTL_SECONDS = 24 * 60 * 60;
const SESSION_TTL_SECONDS = 60 * 60;
const INTERACTION_TTL_SECONDS = 10 * 60;
/** oidc-provider's default clockTolerance; stored artifacts outlive their exp by this much, as in its MemoryAdapter. */
const STORAGE_GRACE_SECONDS = 15;

interface ResourceSettings {
  scopes: readonly string[];
  accessTokenTtlSeconds: number;
  /** The token `aud`: the resource, or a fixed identifier as some identity providers use. */
  audience: string;
  accessTokenFormat: 'jwt' | 'opaque';
}

interface Settings {
  port: number;
  resources: ReadonlyMap<string, ResourceSettings>;
  accessTokenTtlSeconds: number;
  user: { sub: string; claims: Record<string, unknown> };
  signingAlg: DemoSigningAlg;
  clients: readonly ClientMetadata[];
  issuer: (origin: string) => string;
  shapeAccessToken: DemoAuthorizationServerOptions['shapeAccessToken'];
  audienceParameter: boolean;
  tokenExchange: readonly TokenExchangeRule[];
  dynamicRegistration: boolean;
  idTokenClaims: Record<string, string[]>;
  introspection: boolean;
}

/** Checks the options once, at start-up, with messages that name the option. */
function resolveSettings(opts: DemoAuthorizationServerOptions): Settings {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('"port" option must be an integer between 0 and 65535');
  }
  const accessTokenTtlSeconds = opts.accessTokenTtlSeconds ?? 600;
  if (!Number.isInteger(accessTokenTtlSeconds) || accessTokenTtlSeconds <= 0) {
    throw new TypeError('"accessTokenTtlSeconds" option must be a positive integer (seconds)');
  }
  const signingAlg = opts.signingAlg ?? 'ES256';
  if (signingAlg !== 'ES256' && signingAlg !== 'RS256') {
    throw new TypeError('"signingAlg" option must be "ES256" or "RS256"');
  }
  if (!Array.isArray(opts.resources) || opts.resources.length === 0) {
    throw new TypeError('"resources" option must list at least one resource, e.g. [{ resource: "http://127.0.0.1:3000/mcp", scopes: ["mcp:read"] }]');
  }
  const resources = new Map<string, ResourceSettings>();
  opts.resources.forEach(({ resource, scopes, audience, accessTokenTtlSeconds: ttl = accessTokenTtlSeconds, accessTokenFormat = 'jwt' }, index) => {
    const url = URL.canParse(resource) ? new URL(resource) : undefined;
    if (!url || url.hash || resource.includes('#')) {
      throw new TypeError(`"resources[${index}].resource" must be an absolute URI without a fragment (RFC 8707 §2)`);
    }
    // oidc-provider answers access_denied when no scope at all gets granted, so a resource
    // without scopes could never receive a user token.
    if (!Array.isArray(scopes) || scopes.length === 0) {
      throw new TypeError(`"resources[${index}].scopes" must list at least one scope, e.g. ["mcp:read"]`);
    }
    if (!scopes.every((scope) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))) {
      throw new TypeError(`"resources[${index}].scopes" must be scope tokens without spaces (RFC 6749 §3.3)`);
    }
    if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
      throw new TypeError(`"resources[${index}].audience" must be a non-empty string`);
    }
    if (!Number.isInteger(ttl) || ttl <= 0) {
      throw new TypeError(`"resources[${index}].accessTokenTtlSeconds" must be a positive integer (seconds)`);
    }
    if (accessTokenFormat !== 'jwt' && accessTokenFormat !== 'opaque') {
      throw new TypeError(`"resources[${index}].accessTokenFormat" must be "jwt" or "opaque"`);
    }
    resources.set(resource, { scopes: [...scopes], accessTokenTtlSeconds: ttl, audience: audience ?? resource, accessTokenFormat });
  });
  if (opts.issuer !== undefined && typeof opts.issuer !== 'function') {
    throw new TypeError('"issuer" option must be a function of the origin, e.g. (origin) => `${origin}/realms/mcp`');
  }
  if (opts.shapeAccessToken !== undefined && typeof opts.shapeAccessToken !== 'function') {
    throw new TypeError('"shapeAccessToken" option must be a function');
  }
  const user = { sub: opts.user?.sub ?? 'demo-user', claims: { ...opts.user?.claims } };
  const tokenExchange = opts.tokenExchange ?? [];
  tokenExchange.forEach((rule, index) => {
    if (!rule.clientId || !Array.isArray(rule.subjectAudiences) || rule.subjectAudiences.length === 0) {
      throw new TypeError(`"tokenExchange[${index}]" needs a clientId and at least one subjectAudiences entry`);
    }
  });
  return {
    port,
    resources,
    accessTokenTtlSeconds,
    user,
    signingAlg,
    clients: opts.clients ?? [],
    issuer: opts.issuer ?? ((origin) => origin),
    shapeAccessToken: opts.shapeAccessToken,
    audienceParameter: opts.audienceParameter ?? false,
    tokenExchange,
    dynamicRegistration: opts.dynamicRegistration ?? true,
    idTokenClaims: opts.idTokenClaims ?? {},
    introspection: opts.introspection ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// Signing keys

interface SigningKey {
  privateKey: CryptoKey;
  /** Private JWK with kid/alg/use, as oidc-provider's `jwks` option expects it. */
  jwk: JWK;
  /** The public half, as served at the JWKS endpoint. */
  publicJwk: JWK;
  kid: string;
  alg: DemoSigningAlg;
}

/** The kid is the RFC 7638 thumbprint, so it is unique per key without bookkeeping. */
async function createSigningKey(alg: DemoSigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { privateKey, jwk, publicJwk: { ...publicJwk, kid }, kid, alg };
}

// ---------------------------------------------------------------------------------------------
// Storage

interface StoredPayload {
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
  [key: string]: unknown;
}

/**
 * oidc-provider's Adapter contract over one Map shared by every Provider instance built for this
 * server, so DCR clients, grants, sessions and codes survive the Provider swap done by key
 * rotation. oidc-provider's own MemoryAdapter is not a public export and its default instance
 * is process-global (shared between two demo servers in one test run). Entries expire lazily.
 */
function createMemoryAdapterClass() {
  const store = new Map<string, { payload: StoredPayload; expiresAtMs: number }>();

  function read(key: string): StoredPayload | undefined {
    const entry = store.get(key);
    if (entry && entry.expiresAtMs <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  }

  function findWhere(prefix: string, matches: (payload: StoredPayload) => boolean): StoredPayload | undefined {
    for (const key of store.keys()) {
      const payload = key.startsWith(prefix) ? read(key) : undefined;
      if (payload && matches(payload)) return payload;
    }
    return undefined;
  }

  return class DemoMemoryAdapter {
    readonly #prefix: string;

    constructor(model: string) {
      this.#prefix = `${model}:`;
    }

    async upsert(id: string, payload: StoredPayload, expiresInSeconds?: number): Promise<void> {
      const expiresAtMs = expiresInSeconds === undefined
        ? Infinity
        : Date.now() + (expiresInSeconds + STORAGE_GRACE_SECONDS) * 1000;
      store.set(this.#prefix + id, { payload, expiresAtMs });
    }

    async find(id: string): Promise<StoredPayload | undefined> {
      return read(this.#prefix + id);
    }

    async findByUid(uid: string): Promise<StoredPayload | undefined> {
      return findWhere(this.#prefix, (payload) => payload.uid === uid);
    }

    async findByUserCode(userCode: string): Promise<StoredPayload | undefined> {
      return findWhere(this.#prefix, (payload) => payload.userCode === userCode);
    }

    async consume(id: string): Promise<void> {
      const payload = read(this.#prefix + id);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.#prefix + id);
    }

    /** Called on refresh token reuse, code replay and grant revocation: drop every artifact. */
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, { payload }] of store) {
        if (payload.grantId === grantId) store.delete(key);
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Provider configuration

interface ProviderInputs {
  settings: Settings;
  /** The issuer's path without a trailing slash ('' at the root): where the AS is mounted. */
  mountPath: string;
  keys: readonly SigningKey[];
  adapter: ReturnType<typeof createMemoryAdapterClass>;
  cookieKeys: readonly string[];
  /** Claims a grant handler attaches to one token (token exchange's `act`). */
  extraClaims: WeakMap<object, Record<string, unknown>>;
}

/** oidc-provider resource server info: JWT access tokens with the resource as audience. */
function buildResourceServerInfo(settings: Settings, resource: string): Record<string, unknown> & { accessTokenTTL: number } {
  const entry = settings.resources.get(resource);
  if (!entry) throw new InvalidTarget('unknown resource indicator');
  return {
    scope: entry.scopes.join(' '),
    audience: entry.audience,
    accessTokenFormat: entry.accessTokenFormat,
    accessTokenTTL: entry.accessTokenTtlSeconds,
    ...(entry.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: settings.signingAlg } } } : {}),
  };
}

/**
 * Every hook and TTL oidc-provider would otherwise default with a "you SHOULD/MUST change it"
 * notice is set explicitly, so the demo starts quietly.
 */
function buildProviderConfiguration({ settings, mountPath, keys, adapter, cookieKeys, extraClaims }: ProviderInputs): Record<string, unknown> {
  const { resources, user, signingAlg, accessTokenTtlSeconds, shapeAccessToken, audienceParameter } = settings;
  return {
    adapter,
    // The first key wins: oidc-provider's keystore picks the first key matching alg + use.
    jwks: { keys: keys.map((key) => key.jwk) },
    // Static clients are re-read for every Provider instance; copies, because oidc-provider mutates them.
    clients: settings.clients.map((client) => structuredClone(client)),
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: signingAlg,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // Shared by every Provider instance so session/interaction cookies survive key rotation.
    cookies: { keys: [...cookieKeys] },
    // OAuth 2.1: code flow only. `offline_access` is deliberately absent (see issueRefreshToken).
    responseTypes: ['code'],
    // Resource scopes are listed too: dynamic registration (RFC 7591) refuses a client
    // `scope` the AS does not know, and the MCP SDK registers with the challenged scope.
    scopes: ['openid', ...Object.keys(settings.idTokenClaims), ...new Set([...resources.values()].flatMap((entry) => entry.scopes))],
    // OpenID scopes → claims (oidc-provider's defaults plus ours); with conformIdTokenClaims off
    // they go into the ID token itself.
    ...(Object.keys(settings.idTokenClaims).length > 0
      ? { claims: { acr: null, sid: null, auth_time: null, iss: null, openid: ['sub'], ...settings.idTokenClaims }, conformIdTokenClaims: false }
      : {}),
    // The official MCP SDK registers with the scope of its first challenge and
    // never re-registers, so an AS that enforces a client's registered `scope`
    // refuses its later step-up as invalid_scope. This demo AS keeps no scope
    // restriction on clients (the grant still holds only what was consented).
    // The validator runs for this (unused) extra property on every registration.
    extraClientMetadata: {
      properties: ['demo_unrestricted_scope'],
      validator: (_ctx: unknown, key: string, _value: unknown, metadata: Record<string, unknown>) => {
        if (key === 'demo_unrestricted_scope') delete metadata.scope;
      },
    },
    routes: ROUTES,
    pkce: { required: () => true },
    findAccount: async (_ctx: unknown, sub: string) =>
      sub === user.sub ? { accountId: sub, claims: async () => ({ ...user.claims, sub }) } : undefined,
    extraTokenClaims: async (_ctx: unknown, token: OidcTokenLike) => {
      const claims = { ...(token.accountId === user.sub ? user.claims : {}), ...extraClaims.get(token) };
      return Object.keys(claims).length > 0 ? claims : undefined;
    },
    // MCP clients never ask for offline_access; any client registered for the refresh_token
    // grant (the MCP SDK registers for it) gets one. A non-default hook also makes oidc-provider
    // advertise refresh_token in grant_types_supported.
    issueRefreshToken: async (_ctx: unknown, client: OidcClientLike) => client.grantTypeAllowed('refresh_token'),
    // Tokens outlive the (throwaway, headless) browser session.
    expiresWithSession: async () => false,
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `${mountPath}${INTERACTION_PATH}${interaction.uid}` },
    // Auth0's `audience` authorization parameter (see defaultResource).
    ...(audienceParameter ? { extraParams: ['audience'] } : {}),
    ...(shapeAccessToken
      ? {
          formats: {
            customizers: {
              jwt: async (_ctx: unknown, _token: unknown, jwt: { header?: Record<string, unknown>; payload: Record<string, unknown> }) => {
                jwt.header ??= {};
                shapeAccessToken(jwt as { header: Record<string, unknown>; payload: Record<string, unknown> });
              },
            },
          },
        }
      : {}),
    clientBasedCORS: (_ctx: unknown, origin: string, client: OidcClientLike) =>
      client.clientAuthMethod === 'none' && client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
    renderError: async (ctx: { type: string; body: unknown }, out: Record<string, string>) => {
      ctx.type = 'json';
      ctx.body = { error: out.error, error_description: out.error_description };
    },
    ttl: {
      // A resource's own lifetime wins (resources[].accessTokenTtlSeconds).
      AccessToken: (_ctx: unknown, token: OidcTokenLike) => token.resourceServer?.accessTokenTTL ?? accessTokenTtlSeconds,
      ClientCredentials: (_ctx: unknown, token: OidcTokenLike) => token.resourceServer?.accessTokenTTL ?? accessTokenTtlSeconds,
      IdToken: accessTokenTtlSeconds,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Grant: REFRESH_TOKEN_TTL_SECONDS,
      Session: SESSION_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      registration: { enabled: settings.dynamicRegistration },
      clientCredentials: { enabled: true },
      // A confidential client (a resource server, an administrator) may introspect and revoke any
      // token; public clients (the DCR-registered MCP clients) may do neither.
      introspection: {
        enabled: settings.introspection,
        allowedPolicy: async (_ctx: unknown, client: OidcClientLike) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: settings.introspection,
        allowedPolicy: async (_ctx: unknown, client: OidcClientLike) => client.clientAuthMethod !== 'none',
      },
      resourceIndicators: {
        enabled: true,
        // With a single configured resource, a client that omits `resource` still gets an audience.
        // Auth0 shape: the `audience` parameter names the resource; without it, no resource
        // (an opaque, userinfo-only access token).
        defaultResource: async (ctx: { oidc: { params?: Record<string, unknown> } }, _client: unknown, oneOf?: string[]) => {
          if (oneOf) return oneOf;
          if (audienceParameter) {
            const audience = ctx.oidc.params?.audience;
            return typeof audience === 'string' ? audience : undefined;
          }
          return resources.size === 1 ? [...resources.keys()][0] : undefined;
        },
        // RFC 8707 §2.2: the token request may omit `resource`; reuse the one bound to the code.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => buildResourceServerInfo(settings, resource),
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Headless interactions (login + consent of the demo user)

/** Grants what the consent prompt reports as missing: OIDC scopes/claims and resource scopes. */
async function saveConsentGrant(provider: OidcProvider, interaction: OidcInteraction, accountId: string): Promise<string> {
  const { details } = interaction.prompt;
  const clientId = String(interaction.params.client_id);
  const grant = (interaction.grantId && (await provider.Grant.find(interaction.grantId)))
    || new provider.Grant({ accountId, clientId });
  const missingOIDCScope = details.missingOIDCScope as string[] | undefined;
  const missingOIDCClaims = details.missingOIDCClaims as string[] | undefined;
  const missingResourceScopes = details.missingResourceScopes as Record<string, string[]> | undefined;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  return grant.save();
}

/** GET /interaction/:uid — logs the demo user in, or consents for them, then resumes. */
async function completeInteraction(
  provider: OidcProvider,
  userSub: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  switch (interaction.prompt.name) {
    case 'login':
      return provider.interactionFinished(req, res, { login: { accountId: userSub } }, { mergeWithLastSubmission: false });
    case 'consent': {
      const grantId = await saveConsentGrant(provider, interaction, interaction.session?.accountId ?? userSub);
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    default:
      return provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'the demo AS only handles login and consent prompts' },
        { mergeWithLastSubmission: false },
      );
  }
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Routes /interaction/* to the headless handler and everything else to the current Provider. */
function createRequestListener(
  getProvider: () => { provider: OidcProvider; listener: NodeListener; mountPath: string } | undefined,
  userSub: string,
  onRequest: (path: string) => void,
): NodeListener {
  return function routeDemoAuthorizationRequest(req, res) {
    const current = getProvider();
    if (!current) {
      // Only between listen() and the first Provider, whose issuer needs the bound port.
      sendJson(res, 503, { error: 'temporarily_unavailable' });
      return;
    }
    const { provider, listener, mountPath } = current;
    if (mountPath) {
      // The AS lives under the issuer's path (e.g. /realms/mcp); oidc-provider derives its
      // mount path from originalUrl minus url (lib/helpers/oidc_context.js, urlFor).
      const url = req.url ?? '/';
      if (url !== mountPath && !url.startsWith(`${mountPath}/`) && !url.startsWith(`${mountPath}?`)) {
        sendJson(res, 404, { error: 'invalid_request', error_description: 'not under the issuer path' });
        return;
      }
      Object.assign(req, { originalUrl: url });
      req.url = url.slice(mountPath.length) || '/';
    }
    onRequest(req.url?.split('?', 1)[0] ?? '/');
    if (!req.url?.startsWith(INTERACTION_PATH)) {
      listener(req, res);
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'interactions are GET only' });
      return;
    }
    completeInteraction(provider, userSub, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // oidc-provider errors (e.g. SessionNotFound for a missing cookie) carry their wire code.
      const code = (err as { error?: unknown }).error;
      sendJson(res, 400, { error: typeof code === 'string' ? code : 'server_error' });
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Server

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the demo AS on 127.0.0.1. Rejects on invalid options (TypeError) or a busy port. */
export async function startDemoAuthorizationServer(opts: DemoAuthorizationServerOptions): Promise<DemoAuthorizationServer> {
  const settings = resolveSettings(opts);
  const adapter = createMemoryAdapterClass();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let keys: SigningKey[] = [await createSigningKey(settings.signingAlg)];
  let current: { provider: OidcProvider; listener: NodeListener; mountPath: string } | undefined;
  const extraClaims = new WeakMap<object, Record<string, unknown>>();
  const tokenRequests: TokenRequestRecord[] = [];

  let introspectionRequests = 0;
  const countRequest = (path: string) => {
    if (path === ROUTES.introspection) introspectionRequests += 1;
  };
  const server = createServer(createRequestListener(() => current, settings.user.sub, countRequest));
  const port = await listen(server, settings.port);
  const origin = `http://${HOST}:${port}`;
  let issuer: string;
  let mountPath: string;
  try {
    issuer = settings.issuer(origin);
    mountPath = new URL(issuer).pathname.replace(/\/+$/, '');
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    throw new TypeError(`"issuer" option must return an absolute URL: ${(err as Error).message}`);
  }
  const baseUrl = `${origin}${mountPath}`;

  function installProvider(): void {
    const provider = new OidcProviderClass(issuer, buildProviderConfiguration({ settings, mountPath, keys, adapter, cookieKeys, extraClaims }));
    registerTokenExchangeGrant(provider, {
      issuer,
      rules: settings.tokenExchange,
      publicKeys: () => keys.map((key) => key.publicJwk),
      resourceScopes: (resource) => settings.resources.get(resource)?.scopes,
      resourceServerInfo: (resource) => buildResourceServerInfo(settings, resource),
      extraClaims,
    });
    const record = (ctx: OidcTokenContext, error?: string) => {
      const grantType = ctx.oidc?.params?.grant_type;
      tokenRequests.push({
        grantType: typeof grantType === 'string' ? grantType : undefined,
        clientId: ctx.oidc?.client?.clientId,
        ...(error ? { error } : {}),
      });
    };
    provider.on('grant.success', (ctx) => record(ctx));
    provider.on('grant.error', (ctx, error) => record(ctx, error.error ?? 'server_error'));
    current = { provider, listener: provider.callback(), mountPath };
  }
  try {
    installProvider();
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    throw err;
  }

  function stopListening(): Promise<void> {
    if (!server.listening) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  return {
    issuer,
    baseUrl,
    jwksUri: `${baseUrl}${ROUTES.jwks}`,
    introspectionEndpoint: `${baseUrl}${ROUTES.introspection}`,
    revocationEndpoint: `${baseUrl}${ROUTES.revocation}`,
    get introspectionRequests() {
      return introspectionRequests;
    },
    async rotateSigningKey() {
      keys = [await createSigningKey(settings.signingAlg), ...keys];
      installProvider();
    },
    currentSigningKey() {
      const [key] = keys as [SigningKey];
      return { key: key.privateKey, kid: key.kid, alg: key.alg };
    },
    obtainUserToken: (request) => runUserTokenFlow({ issuer, baseUrl }, request),
    tokenRequests,
    suspend: stopListening,
    async resume() {
      if (!server.listening) await listen(server, port);
    },
    close: stopListening,
  };
}

// ---------------------------------------------------------------------------------------------
// Clients of the demo AS: headless authorization and the obtainUserToken flow

const MAX_REDIRECTS = 10;

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function sameEndpoint(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname === b.pathname;
}

/** Remembers cookies by name for the AS origin only; enough for oidc-provider's short flow. */
function storeCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';', 1);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

async function readOAuthError(response: Response): Promise<DemoOAuthError> {
  const body = (await response.json().catch(() => ({}))) as { error?: unknown; error_description?: unknown };
  const code = typeof body.error === 'string' ? body.error : 'unexpected_response';
  const description = typeof body.error_description === 'string' ? body.error_description : `HTTP ${response.status}`;
  return new DemoOAuthError(code, description);
}

/**
 * Follows an authorization URL headlessly (GET, cookies carried across redirects; the demo AS
 * logs the demo user in and consents) until the redirect to `redirectUri`, and returns the
 * code, state and RFC 9207 iss from it. Throws {@link DemoOAuthError} with the AS's error code
 * when the AS redirects back with an error (e.g. invalid_target) or answers without a redirect.
 */
export async function completeAuthorizationHeadless(
  authorizationUrl: URL | string,
  redirectUri: string,
): Promise<{ code: string; state?: string; iss?: string }> {
  const target = new URL(redirectUri);
  const jar = new Map<string, string>();
  let url = new URL(authorizationUrl);
  const asOrigin = url.origin;

  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    const headers: Record<string, string> = url.origin === asOrigin && jar.size ? { cookie: cookieHeader(jar) } : {};
    const response = await fetch(url, { redirect: 'manual', headers });
    if (url.origin === asOrigin) storeCookies(jar, response);
    const location = response.headers.get('location');
    if (!isRedirect(response.status) || !location) {
      throw await readOAuthError(response);
    }
    await response.body?.cancel();
    url = new URL(location, url);
    if (!sameEndpoint(url, target)) continue;

    const params = url.searchParams;
    const error = params.get('error');
    if (error) throw new DemoOAuthError(error, params.get('error_description') ?? undefined);
    const code = params.get('code');
    if (!code) throw new DemoOAuthError('invalid_response', 'redirect without code or error');
    return { code, state: params.get('state') ?? undefined, iss: params.get('iss') ?? undefined };
  }
  throw new DemoOAuthError('too_many_redirects', `no redirect to ${target.origin}${target.pathname} after ${MAX_REDIRECTS} hops`);
}

/** Never dereferenced: the headless flow stops at the redirect. */
const FLOW_REDIRECT_URI = 'http://127.0.0.1/callback';

async function postForm(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  if (!response.ok) throw await readOAuthError(response);
  return (await response.json()) as Record<string, unknown>;
}

/** RFC 7591 registration of a public client, the way the MCP SDK registers. */
async function registerPublicClient(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}${ROUTES.registration}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'demo-authorization-server test client',
      redirect_uris: [FLOW_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  if (response.status !== 201) throw await readOAuthError(response);
  const { client_id: clientId } = (await response.json()) as { client_id: string };
  return clientId;
}

async function runUserTokenFlow(
  { issuer, baseUrl }: { issuer: string; baseUrl: string },
  { resource, scope, params = {} }: UserTokenRequest,
): Promise<{ accessToken: string; refreshToken?: string }> {
  const clientId = await registerPublicClient(baseUrl);
  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorizationUrl = new URL(`${baseUrl}${ROUTES.authorization}`);
  authorizationUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: FLOW_REDIRECT_URI,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
    scope,
    ...(resource !== undefined ? { resource } : {}),
    state,
    ...params,
  }).toString();

  const result = await completeAuthorizationHeadless(authorizationUrl, FLOW_REDIRECT_URI);
  if (result.state !== state) throw new DemoOAuthError('invalid_response', 'state mismatch');
  // RFC 9207: the iss response parameter must name this AS.
  if (result.iss !== undefined && result.iss !== issuer) throw new DemoOAuthError('invalid_response', 'iss mismatch');

  const tokens = await postForm(`${baseUrl}${ROUTES.token}`, {
    grant_type: 'authorization_code',
    code: result.code,
    redirect_uri: FLOW_REDIRECT_URI,
    code_verifier: codeVerifier,
    client_id: clientId,
    ...(resource !== undefined ? { resource } : {}),
  });
  if (typeof tokens.access_token !== 'string') throw new DemoOAuthError('invalid_response', 'no access_token');
  return {
    accessToken: tokens.access_token,
    ...(typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {}),
  };
}
