import { z } from 'zod';
import { SIGNING_ALGORITHMS } from '../keys/index.js';
import { checkClientAuthentication, CLIENT_AUTHENTICATION_METHODS } from './credential-schema.js';
import { identityKeySchema } from './identity-schema.js';
import { httpUrl, scopeToken, secret } from './schema-primitives.js';

/**
 * The authorization server facade (docs/as-facade.md): the gateway is the OAuth 2.1 authorization
 * server MCP clients talk to (client ID metadata documents, dynamic registration, consent), while
 * users log in at the company's OpenID Connect identity provider.
 */

/** Claims the gateway sets itself in the access tokens it issues; an identity provider's copy never replaces them. */
export const RESERVED_TOKEN_CLAIMS = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope', 'scp', 'azp', 'auth_time', 'cnf', 'act', 'may_act', 'typ',
]);

/** A host name, or `*.` and a domain for every subdomain of it (not the domain itself). */
const hostPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/, {
    error: 'expected a lowercase host name such as app.example.com, or *.example.com for its subdomains',
  });

export const identityProviderSchema = z
  .strictObject({
    issuer: httpUrl('authorizationServer.identityProvider.issuer').describe(
      "The identity provider's issuer, e.g. https://login.microsoftonline.com/<tenant>/v2.0. Its endpoints and keys are discovered from its OpenID / RFC 8414 metadata, whose `issuer` must equal this exactly.",
    ),
    clientId: z.string().min(1).describe("The gateway's client id at the identity provider (registered once, as a confidential web client)."),
    clientAuthentication: z
      .enum(CLIENT_AUTHENTICATION_METHODS)
      .default('client_secret_basic')
      .describe('How the gateway authenticates at the identity provider\'s token endpoint.'),
    clientSecret: secret().optional().describe('Client secret, for client_secret_basic and client_secret_post.'),
    privateKey: secret()
      .optional()
      .describe('Private key for private_key_jwt: PEM (PKCS#8, SEC1, PKCS#1) or a private JWK as JSON.'),
    privateKeyId: z.string().min(1).optional().describe('`kid` of the private_key_jwt assertion. Default: the RFC 7638 thumbprint of the key.'),
    signingAlgorithm: z.enum(SIGNING_ALGORITHMS).optional().describe('JWS algorithm of the private_key_jwt assertion. Default: the one the key implies.'),
    scopes: z
      .array(scopeToken)
      .default(['openid', 'profile', 'email'])
      .describe('Scopes requested at the identity provider; must include openid.'),
    subjectClaim: z
      .string()
      .min(1)
      .default('sub')
      .describe('ID token claim that becomes the `sub` of the access tokens the gateway issues (Entra ID: `oid` is stable across applications, `sub` is pairwise).'),
    claims: z
      .array(z.string().min(1))
      .default([])
      .describe('Claims copied from the ID token (and userinfo, when enabled) into the access tokens, for policies and identity propagation, e.g. [groups, email, name].'),
    userinfo: z
      .boolean()
      .default(false)
      .describe('Also read `claims` from the userinfo endpoint (for providers that leave them out of the ID token). Its `sub` must match the ID token.'),
    timeoutMs: z.int().min(100).default(5000).describe('Timeout of each metadata, token and userinfo request to the identity provider, in ms.'),
  })
  .superRefine((provider, ctx) => {
    if (!provider.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid (the login is OpenID Connect)' });
    checkClientAuthentication(provider, ctx);
    provider.claims.forEach((claim, index) => {
      if (RESERVED_TOKEN_CLAIMS.has(claim)) {
        ctx.addIssue({ code: 'custom', path: ['claims', index], message: `${claim} is set by the gateway itself and cannot be copied from the identity provider` });
      }
    });
  })
  .describe('The OpenID Connect identity provider users log in at (Entra ID, Google, Okta, Keycloak…). It needs no dynamic registration.');

export const clientIdMetadataDocumentsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Accept https URLs as client ids and fetch their client ID metadata documents.'),
    allowedHosts: z
      .array(hostPattern)
      .default([])
      .describe('When not empty, only client ids on these hosts are accepted (`app.example.com`, `*.example.com`).'),
    deniedHosts: z.array(hostPattern).default([]).describe('Client ids on these hosts are refused (checked before allowedHosts).'),
    timeoutMs: z.int().min(100).max(30_000).default(5000).describe('Timeout of one document fetch (connect, headers and body), in ms.'),
    maxBytes: z.int().min(512).max(65_536).default(5120).describe('Largest document accepted; the fetch stops reading there.'),
    cacheMaxSeconds: z
      .int()
      .min(0)
      .default(3600)
      .describe('Upper bound on how long a valid document is cached (its Cache-Control / Expires decide below that; errors are never cached).'),
    cacheMaxEntries: z.int().min(1).default(1000).describe('Documents cached at once.'),
    insecureTestingLoopback: z
      .strictObject({
        origins: z
          .array(z.url({ protocol: /^https$/, error: 'expected an https origin such as https://localhost:9443' }))
          .min(1)
          .describe('Exact https origins whose documents may be fetched from a loopback address.'),
        ca: z.string().min(1).optional().describe('PEM CA certificate trusted for these origins only (a test fixture\'s).'),
      })
      .optional()
      .describe(
        'TESTS ONLY. Lets the listed https origins resolve to 127.0.0.0/8 or ::1, optionally with their own CA; everything else (https, no redirects, size, other ranges, other origins) is unchanged. Logged as a warning at start-up. Never set it in production.',
      ),
  })
  .describe('Client ID metadata documents (CIMD): https URLs as client ids, fetched with SSRF guards.');

export const dynamicRegistrationSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve the RFC 7591 registration endpoint. The official MCP SDK 1.x client needs it unless it was given a client ID metadata URL.'),
    maxClients: z.int().min(1).default(10_000).describe('Registered clients kept at most; further registrations are refused (503).'),
  })
  .describe('Dynamic client registration (RFC 7591) of public clients.');

export const authorizationServerSchema = z
  .strictObject({
    issuer: httpUrl('authorizationServer.issuer')
      .optional()
      .describe(
        "The facade's issuer identifier, named in the protected resource metadata. Default: the origin of resource.url. Its endpoints live under `<issuer>/oauth/`; register `<issuer>/oauth/callback` as the redirect URI at the identity provider.",
      ),
    identityProvider: identityProviderSchema,
    signingKeys: z
      .array(identityKeySchema.describe('A signing key of the access tokens.'))
      .min(1, { error: 'expected at least one key' })
      .describe('Keys signing the access tokens (rotation as for identity.jwt.keys); published at `<issuer>/oauth/jwks`. Use other keys than identity.jwt.'),
    retiredKeyPublishSeconds: z
      .int()
      .min(60)
      .default(900)
      .describe('How long a signing key stays in the JWKS (and accepted) after its successor took over, in seconds; at least accessTokenTtlSeconds.'),
    scopes: z
      .array(scopeToken)
      .min(1)
      .describe('Scopes the facade grants (with the user\'s consent). A request for another scope gets invalid_scope; offline_access is accepted and ignored.'),
    accessTokenTtlSeconds: z.int().min(30).max(3600).default(300).describe('Lifetime of the access tokens, in seconds.'),
    refreshTokenTtlSeconds: z
      .int()
      .min(0)
      .default(86_400)
      .describe('Absolute lifetime of a refresh token family (a login), in seconds; rotation does not extend it. 0: no refresh tokens.'),
    authorizationCodeTtlSeconds: z.int().min(10).max(600).default(60).describe('Lifetime of an authorization code, in seconds.'),
    loginTimeoutSeconds: z
      .int()
      .min(60)
      .max(3600)
      .default(600)
      .describe('Time for consent and the login at the identity provider, from the authorization request on, in seconds.'),
    storage: z
      .strictObject({
        directory: z
          .string()
          .min(1)
          .describe('Directory for registered clients and refresh tokens (JSON lines, fsynced); relative to the config file. Keep it on a persistent volume.'),
      })
      .describe('Where what must survive a restart is kept.'),
    clientIdMetadataDocuments: clientIdMetadataDocumentsSchema.prefault({}),
    dynamicRegistration: dynamicRegistrationSchema.prefault({}),
    rateLimit: z
      .strictObject({
        requestsPerMinute: z.int().min(1).default(60).describe('Sustained requests per minute per client address.'),
        burst: z.int().min(1).default(20).describe('Requests an address may send at once after being idle.'),
        maxAddresses: z.int().min(1).default(10_000).describe('Addresses tracked at once (bounded memory).'),
      })
      .prefault({})
      .describe(
        'Per client address, on the endpoints anyone may call that make the gateway store (registration) or fetch (authorization with a client ID metadata document); over it → 429. The address is the socket peer, or the last X-Forwarded-For entry with listen.trustForwardedHeaders.',
      ),
  })
  .superRefine((server, ctx) => {
    if (server.issuer) {
      const url = new URL(server.issuer);
      if (url.search || url.hash || server.issuer.includes('#') || server.issuer.includes('?')) {
        ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'an issuer has no query or fragment (RFC 8414 §2)' });
      }
      if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must be https (plain http only on a loopback host, for local development)' });
      }
    }
    if (server.scopes.includes('offline_access')) {
      ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'offline_access needs no listing: it is accepted and refresh tokens are issued to clients registered for them' });
    }
    if (server.retiredKeyPublishSeconds < server.accessTokenTtlSeconds) {
      ctx.addIssue({ code: 'custom', path: ['retiredKeyPublishSeconds'], message: 'must be at least accessTokenTtlSeconds (tokens signed by a retired key stay valid that long)' });
    }
    const always = server.signingKeys.filter((key) => key.activeFrom === undefined);
    if (always.length > 1) ctx.addIssue({ code: 'custom', path: ['signingKeys'], message: 'at most one key may omit activeFrom' });
  })
  .describe(
    'The authorization server facade (docs/as-facade.md): MCP clients register (client ID metadata documents or dynamic registration) and authorize here; users consent, then log in at the identity provider; the gateway issues its own access and refresh tokens. Absent: off.',
  );

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** The facade's issuer: as configured, else the origin of resource.url. Undefined when the facade is off. */
export function facadeIssuer(config: { resource: { url: string }; authorizationServer?: { issuer?: string | undefined } | undefined }): string | undefined {
  if (!config.authorizationServer) return undefined;
  return config.authorizationServer.issuer ?? new URL(config.resource.url).origin;
}
