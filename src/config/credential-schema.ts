import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { describeKeyProblem, SIGNING_ALGORITHMS, type SigningAlgorithm } from '../keys/index.js';
import { headerName, httpUrl, scopeToken, secret } from './schema-primitives.js';

/**
 * The gateway's own credential towards the upstream (docs/upstream-identity.md). Three kinds,
 * told apart by `type`; the Foundation form `{ header, value }` (no `type`) is the static one.
 * The client's token is never sent upstream; with token exchange it goes only to the
 * authorization server's token endpoint, as `subject_token`.
 */

export const staticCredentialSchema = z
  .strictObject({
    type: z.literal('static').default('static').describe('`static` (may be omitted): a fixed header.'),
    header: headerName.describe('Header carrying the credential, e.g. Authorization or X-API-Key.'),
    value: secret().describe('Header value, e.g. "Bearer ${env:UPSTREAM_KEY}".'),
  })
  .describe('A fixed header, e.g. an API key.');

export const CLIENT_AUTHENTICATION_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

/**
 * The gateway as an OAuth client (towards the upstream's AS, or the facade's identity provider):
 * a secret for the secret methods, a usable private key for private_key_jwt, never both.
 */
export function checkClientAuthentication(
  client: { clientAuthentication: (typeof CLIENT_AUTHENTICATION_METHODS)[number]; clientSecret?: string | undefined; privateKey?: string | undefined; signingAlgorithm?: SigningAlgorithm | undefined },
  ctx: z.RefinementCtx,
): void {
  const usesSecret = client.clientAuthentication !== 'private_key_jwt';
  if (usesSecret && !client.clientSecret) {
    ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `required for clientAuthentication ${client.clientAuthentication}` });
  }
  if (usesSecret && client.privateKey) {
    ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'only used with clientAuthentication private_key_jwt' });
  }
  if (!usesSecret && client.clientSecret) {
    ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'not used with clientAuthentication private_key_jwt; remove it' });
  }
  if (!usesSecret && !client.privateKey) {
    ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'required for clientAuthentication private_key_jwt' });
  }
  if (client.privateKey) {
    const problem = describeKeyProblem(client.privateKey, client.signingAlgorithm);
    if (problem) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: problem });
  }
}

/** Fields shared by the two kinds that ask an authorization server's token endpoint. */
const tokenEndpointFields = {
  issuer: httpUrl('upstream.credential.issuer')
    .optional()
    .describe(
      'Issuer of the authorization server that issues the upstream token. Its token endpoint is discovered from its RFC 8414 / OpenID metadata at start-up; it is also the audience of private_key_jwt assertions.',
    ),
  tokenEndpoint: httpUrl('upstream.credential.tokenEndpoint')
    .optional()
    .describe('Token endpoint URL. Skips discovery; required when issuer is absent.'),
  clientId: z.string().min(1).describe("The gateway's client id at that authorization server."),
  clientAuthentication: z
    .enum(CLIENT_AUTHENTICATION_METHODS)
    .default('client_secret_basic')
    .describe('How the gateway authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523).'),
  clientSecret: secret().optional().describe('Client secret, for client_secret_basic and client_secret_post.'),
  privateKey: secret()
    .optional()
    .describe('Private key for private_key_jwt: PEM (PKCS#8, SEC1, PKCS#1) or a private JWK as JSON. EC, RSA (≥ 2048 bits) or Ed25519.'),
  privateKeyId: z
    .string()
    .min(1)
    .optional()
    .describe('`kid` of the private_key_jwt assertion, as registered at the authorization server. Default: the RFC 7638 thumbprint of the key.'),
  signingAlgorithm: z
    .enum(SIGNING_ALGORITHMS)
    .optional()
    .describe('JWS algorithm of the private_key_jwt assertion. Default: the one the key implies (ES256 for P-256, RS256 for RSA, EdDSA for Ed25519).'),
  scope: z.array(scopeToken).optional().describe('Scopes to request (`scope`).'),
  audience: z
    .string()
    .min(1)
    .optional()
    .describe('`audience` parameter: the logical name of the upstream at the authorization server (RFC 8693 §2.1; also Auth0-style client credentials).'),
  resource: z
    .url({ error: 'expected an absolute URI for upstream.credential.resource' })
    .optional()
    .describe('`resource` parameter (RFC 8707): the upstream\'s resource URI, usually upstream.url.'),
  refreshBeforeExpirySeconds: z
    .int()
    .min(0)
    .default(60)
    .describe('Renew a cached token this long before it expires (at most half its lifetime); until then it is reused.'),
  timeoutMs: z.int().min(100).default(5000).describe('Timeout of each token endpoint and discovery request, in ms.'),
  failureCooldownMs: z
    .int()
    .min(0)
    .default(1000)
    .describe('After the authorization server could not be reached, requests needing a new token fail fast (503) for this long before it is asked again, in ms.'),
};

export const clientCredentialsSchema = z
  .strictObject({
    type: z.literal('client_credentials').describe('`client_credentials`: the gateway\'s own token (RFC 6749 §4.4).'),
    ...tokenEndpointFields,
  })
  .describe(
    'OAuth 2.0 client credentials grant: one token for the gateway, cached until shortly before it expires, renewed once under concurrency, renewed and the request retried once when the upstream answers 401.',
  );

export const tokenExchangeSchema = z
  .strictObject({
    type: z.literal('token_exchange').describe('`token_exchange`: a token for the user, obtained by RFC 8693 token exchange.'),
    ...tokenEndpointFields,
    cacheMaxEntries: z
      .int()
      .min(0)
      .default(10000)
      .describe('Exchanged tokens kept, one per user token (keyed by a SHA-256 hash, never the token); 0 exchanges on every request.'),
  })
  .describe(
    "RFC 8693 token exchange: the validated user token is sent to the token endpoint as subject_token (and nowhere else); the token received, for the upstream's audience, is cached per user token until shortly before it expires.",
  );

export const upstreamCredentialSchema = z
  .discriminatedUnion('type', [staticCredentialSchema, clientCredentialsSchema, tokenExchangeSchema], {
    error: 'expected type: static (or omitted), client_credentials or token_exchange',
  })
  .superRefine((credential, ctx) => {
    if (credential.type !== 'client_credentials' && credential.type !== 'token_exchange') return;
    if (!credential.issuer && !credential.tokenEndpoint) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'set issuer (token endpoint discovered) or tokenEndpoint' });
    }
    checkClientAuthentication(credential, ctx);
    if (credential.type === 'token_exchange' && !credential.audience && !credential.resource) {
      ctx.addIssue({ code: 'custom', path: ['resource'], message: 'token exchange needs a target: set resource (usually upstream.url) or audience' });
    }
  })
  .describe("The gateway's own credential towards the upstream (the client's token never is): a static header, client credentials or token exchange.");

export const upstreamTlsSchema = z
  .strictObject({
    clientCertificate: z
      .string()
      .min(1)
      .optional()
      .describe('PEM client certificate (or chain) presented to the upstream (mutual TLS), e.g. ${file:/etc/mcp-gateway/client.crt}.'),
    clientKey: secret().optional().describe('Unencrypted PEM private key of clientCertificate.'),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe("PEM CA certificate(s) trusted for the upstream's server certificate instead of the system store."),
    serverName: z
      .string()
      .min(1)
      .optional()
      .describe("Name the upstream's certificate is checked against (and sent as SNI) when it differs from the URL host."),
  })
  .superRefine((tls, ctx) => {
    if (Boolean(tls.clientCertificate) !== Boolean(tls.clientKey)) {
      ctx.addIssue({ code: 'custom', path: [tls.clientCertificate ? 'clientKey' : 'clientCertificate'], message: 'clientCertificate and clientKey go together' });
      return;
    }
    const certificate = parseCertificate(tls.clientCertificate, 'clientCertificate', ctx);
    if (tls.ca) parseCertificate(tls.ca, 'ca', ctx);
    if (certificate && tls.clientKey) {
      try {
        if (!certificate.checkPrivateKey(createPrivateKey(tls.clientKey))) {
          ctx.addIssue({ code: 'custom', path: ['clientKey'], message: 'does not match clientCertificate' });
        }
      } catch {
        ctx.addIssue({ code: 'custom', path: ['clientKey'], message: 'not an unencrypted PEM private key' });
      }
    }
  })
  .describe('TLS towards an https upstream: a client certificate (mutual TLS) and the CA to trust.');

function parseCertificate(pem: string | undefined, key: string, ctx: z.RefinementCtx): X509Certificate | undefined {
  if (!pem) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    ctx.addIssue({ code: 'custom', path: [key], message: 'not a PEM certificate' });
    return undefined;
  }
}
