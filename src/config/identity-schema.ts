import { z } from 'zod';
import { describeKeyProblem, SIGNING_ALGORITHMS } from '../keys/index.js';
import { headerName, httpUrl, secret } from './schema-primitives.js';

/**
 * Identity propagation (docs/upstream-identity.md): who is behind each upstream call, as
 * headers filled from the verified token's claims and as a short-lived JWT signed by the gateway.
 */

/**
 * A header value template: literal text with `{claim}` placeholders, e.g. `{sub}` or
 * `user={sub}`. No other braces, no control characters (they could split the header).
 */
const CLAIM_TEMPLATE = /^(?:[^{}\x00-\x1f\x7f]|\{[^{}\x00-\x20\x7f]+\})*$/;

export const claimTemplate = z
  .string()
  .min(1)
  .regex(CLAIM_TEMPLATE, { error: 'expected text with {claim} placeholders, e.g. "{sub}"; no other braces or control characters' });

export const identityKeySchema = z
  .strictObject({
    privateKey: secret().describe(
      'Private signing key: PEM (PKCS#8, SEC1, PKCS#1) or a private JWK as JSON, usually ${file:…} or ${env:…}. EC P-256/384/521, RSA ≥ 2048 bits or Ed25519.',
    ),
    kid: z.string().min(1).optional().describe('Key id published in the JWKS and the JWT header. Default: the RFC 7638 thumbprint.'),
    algorithm: z
      .enum(SIGNING_ALGORITHMS)
      .optional()
      .describe('JWS algorithm. Default: the one the key implies (ES256 for P-256, RS256 for RSA, EdDSA for Ed25519).'),
    activeFrom: z.iso
      .datetime({ offset: true, error: 'expected an ISO 8601 date-time such as 2026-08-01T00:00:00Z' })
      .optional()
      .describe(
        'When this key becomes the signing key (ISO 8601). Until then it is already published, so verifiers can cache it. Absent: active from the start (at most one key may omit it).',
      ),
  })
  .superRefine((key, ctx) => {
    const problem = describeKeyProblem(key.privateKey, key.algorithm);
    if (problem) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: problem });
  })
  .describe('A signing key of the identity JWT.');

export const identityJwtSchema = z
  .strictObject({
    header: headerName.default('X-MCP-Identity').describe('Header carrying the JWT (the bare compact JWS).'),
    issuer: httpUrl('identity.jwt.issuer').optional().describe('`iss` of the JWT. Default: the origin of resource.url.'),
    audience: z.string().min(1).optional().describe('`aud` of the JWT. Default: upstream.url.'),
    ttlSeconds: z.int().min(1).max(60).default(60).describe('Lifetime of each JWT (`exp` − `iat`), in seconds; at most 60.'),
    keys: z
      .array(identityKeySchema)
      .min(1, { error: 'expected at least one key' })
      .describe('Signing keys. The signing key is the one with the latest activeFrom that has passed; all current, upcoming and recently retired public keys are served at /.well-known/jwks.json.'),
    retiredKeyPublishSeconds: z
      .int()
      .min(60)
      .default(900)
      .describe('How long a key stays in the JWKS after a newer key became the signing key, in seconds (the rotation overlap; JWTs it signed are valid for ttlSeconds at most).'),
  })
  .superRefine((jwt, ctx) => {
    const always = jwt.keys.filter((key) => key.activeFrom === undefined);
    if (always.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['keys'], message: 'at most one key may omit activeFrom (otherwise the signing key is ambiguous)' });
    }
    const seen = new Map<string, number>();
    jwt.keys.forEach((key, index) => {
      if (key.activeFrom === undefined) return;
      const time = Date.parse(key.activeFrom);
      if ([...seen.values()].includes(time)) {
        ctx.addIssue({ code: 'custom', path: ['keys', index, 'activeFrom'], message: 'two keys cannot become active at the same time' });
      }
      seen.set(key.activeFrom, time);
    });
    const kids = jwt.keys.map((key) => key.kid).filter((kid): kid is string => kid !== undefined);
    kids.forEach((kid, index) => {
      if (kids.indexOf(kid) !== index) ctx.addIssue({ code: 'custom', path: ['keys'], message: `duplicate kid ${kid}` });
    });
  })
  .describe(
    'A short-lived JWT signed by the gateway naming the user (`sub`), the agent (`client_id`) and the scopes, for the upstream (`aud`). The upstream verifies it against the gateway\'s JWKS at /.well-known/jwks.json.',
  );

export const identitySchema = z
  .strictObject({
    headers: z
      .record(headerName, claimTemplate)
      .default({})
      .describe(
        'Headers filled from the verified token on every upstream request, e.g. X-MCP-User: "{sub}", X-MCP-Client: "{client_id}", X-MCP-Scopes: "{scope}". Any claim can be named (docs/upstream-identity.md); a header whose claim is missing is not sent. The same headers sent by the client are always removed first.',
      ),
    jwt: identityJwtSchema.optional(),
  })
  .describe('Identity propagation: which user and which agent are behind each upstream call.');

/**
 * Request headers the gateway owns or that carry the protocol: an identity header must not
 * replace them (hop-by-hop fields, framing, the MCP transport headers, forwarding headers).
 */
const RESERVED_HEADERS = new Set([
  'authorization', 'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-authorization', 'proxy-connection', 'cookie', 'accept', 'last-event-id',
  'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded',
]);

/** The identity headers of a config, lowercased, as the identity module sets and drops them. */
export function identityHeaderNames(identity: z.output<typeof identitySchema>): string[] {
  return [...Object.keys(identity.headers), ...(identity.jwt ? [identity.jwt.header] : [])].map((name) => name.toLowerCase());
}

/** Cross-section checks: identity headers against each other and against the credential header. */
export function checkIdentityHeaders(
  identity: z.output<typeof identitySchema>,
  credentialHeader: string | undefined,
  ctx: z.RefinementCtx,
): void {
  const names = identityHeaderNames(identity);
  const paths = [...Object.keys(identity.headers).map((name) => ['identity', 'headers', name]), ['identity', 'jwt', 'header']];
  names.forEach((name, index) => {
    const path = paths[index]!;
    if (RESERVED_HEADERS.has(name) || name.startsWith('mcp-param-')) {
      ctx.addIssue({ code: 'custom', path, message: `${name} is a protocol header the gateway does not let identity propagation replace` });
    } else if (name === credentialHeader) {
      ctx.addIssue({ code: 'custom', path, message: `${name} already carries the upstream credential` });
    } else if (names.indexOf(name) !== index) {
      ctx.addIssue({ code: 'custom', path, message: `${name} is set twice (header names are case-insensitive)` });
    }
  });
}
