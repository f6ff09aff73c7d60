/**
 * How the demo upstream checks who is calling: a static service credential, a bearer JWT
 * from an authorization server (client credentials or token exchange), the gateway-signed
 * identity JWT, and (over TLS) the client certificate. Each check uses what a real MCP server
 * would (jose against a remote JWKS, node's TLS peer certificate) and records what it verified,
 * so tests can assert on it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** Requires `Authorization: Bearer <JWT>` issued by `issuer` for `audience`, verified against `jwksUri`. */
export interface BearerJwtRequirement {
  issuer: string;
  jwksUri: string;
  audience: string;
}

/** Requires the gateway's identity JWT in `header`, verified against the gateway's JWKS. */
export interface IdentityJwtRequirement {
  /** e.g. 'x-mcp-identity' */
  header: string;
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Required JWT `typ` header, when given. */
  typ?: string;
}

/** What the upstream verified about one request. */
export interface VerifiedCaller {
  /** Claims of the verified bearer JWT. */
  bearer?: JWTPayload;
  /** Claims and key id of the verified identity JWT. */
  identity?: { claims: JWTPayload; kid: string | undefined };
  /** The TLS client certificate presented (over HTTPS with client certificates requested). */
  clientCertificate?: { subject: string; fingerprint256: string };
}

export interface CallerRequirements {
  requiredCredential?: { header: string; value: string } | undefined;
  requireBearerJwt?: BearerJwtRequirement | undefined;
  verifyIdentityJwt?: IdentityJwtRequirement | undefined;
}

export type CallerCheck = { ok: true; verified: VerifiedCaller } | { ok: false; reason: string; verified: VerifiedCaller };

export interface CallerVerifier {
  check(req: IncomingMessage): Promise<CallerCheck>;
  /** Refuse the bearer token with this `jti` from now on (as after a revocation). */
  revokeToken(jti: string): void;
}

export function createCallerVerifier(requirements: CallerRequirements): CallerVerifier {
  const { requiredCredential, requireBearerJwt, verifyIdentityJwt } = requirements;
  const bearerKeys = requireBearerJwt ? createRemoteJWKSet(new URL(requireBearerJwt.jwksUri)) : undefined;
  const identityKeys = verifyIdentityJwt ? createRemoteJWKSet(new URL(verifyIdentityJwt.jwksUri)) : undefined;
  const revoked = new Set<string>();

  async function check(req: IncomingMessage): Promise<CallerCheck> {
    const verified: VerifiedCaller = {};
    const peer = readClientCertificate(req);
    if (peer) verified.clientCertificate = peer;

    if (requiredCredential && !hasRequiredCredential(req, requiredCredential)) {
      return { ok: false, reason: 'missing or invalid service credential', verified };
    }
    if (requireBearerJwt && bearerKeys) {
      const match = /^Bearer\s+(\S+)$/i.exec(readHeader(req, 'authorization') ?? '');
      if (!match) return { ok: false, reason: 'bearer token required', verified };
      try {
        const { payload } = await jwtVerify(match[1]!, bearerKeys, {
          issuer: requireBearerJwt.issuer,
          audience: requireBearerJwt.audience,
          typ: 'at+jwt',
        });
        if (typeof payload.jti === 'string' && revoked.has(payload.jti)) {
          return { ok: false, reason: 'bearer token revoked', verified };
        }
        verified.bearer = payload;
      } catch (error) {
        return { ok: false, reason: `bearer token invalid: ${(error as Error).message}`, verified };
      }
    }
    if (verifyIdentityJwt && identityKeys) {
      const jwt = readHeader(req, verifyIdentityJwt.header);
      if (!jwt) return { ok: false, reason: `${verifyIdentityJwt.header} required`, verified };
      try {
        const { payload, protectedHeader } = await jwtVerify(jwt, identityKeys, {
          issuer: verifyIdentityJwt.issuer,
          audience: verifyIdentityJwt.audience,
          requiredClaims: ['exp', 'iat', 'sub'],
          ...(verifyIdentityJwt.typ ? { typ: verifyIdentityJwt.typ } : {}),
        });
        verified.identity = { claims: payload, kid: protectedHeader.kid };
      } catch (error) {
        return { ok: false, reason: `identity JWT invalid: ${(error as Error).message}`, verified };
      }
    }
    return { ok: true, verified };
  }

  return { check, revokeToken: (jti) => revoked.add(jti) };
}

function readHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Hash both sides to equal-length digests first: `timingSafeEqual` throws on different lengths,
 * and an early length check would leak the secret's length.
 */
function hasRequiredCredential(req: IncomingMessage, required: { header: string; value: string }): boolean {
  const actual = readHeader(req, required.header) ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(actual), digest(required.value));
}

function readClientCertificate(req: IncomingMessage): VerifiedCaller['clientCertificate'] {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate();
  if (!certificate || !certificate.subject) return undefined;
  const subject = Object.entries(certificate.subject).map(([key, value]) => `${key}=${String(value)}`).join(', ');
  return { subject, fingerprint256: certificate.fingerprint256 };
}
