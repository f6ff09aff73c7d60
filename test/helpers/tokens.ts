/** Hand-made JWTs for negative tests, signed by the real AS's key (or deliberately not). */
import { SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { DemoAuthorizationServer } from '../../src/demo/authorization-server.js';

export interface CraftOptions {
  claims?: JWTPayload;
  header?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
  alg?: string;
}

/** A token shaped like the AS's own (iss, aud, sub, scope, client_id, exp), changed as asked. */
export async function craftToken(as: DemoAuthorizationServer, audience: string, options: CraftOptions = {}): Promise<string> {
  const signing = as.currentSigningKey();
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: as.issuer,
    aud: audience,
    sub: 'demo-user',
    client_id: 'crafted-client',
    scope: 'tickets:read',
    iat: now,
    exp: now + 300,
    jti: Math.random().toString(36).slice(2),
    ...options.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? signing.alg, kid: signing.kid, typ: 'at+jwt', ...options.header })
    .sign(options.key ?? signing.key);
}

/** `alg: none`: header and payload, empty signature. */
export function unsignedToken(claims: JWTPayload): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(claims)}.`;
}
