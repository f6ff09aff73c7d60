import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../keys/index.js';

/** How the gateway proves its client identity to an authorization server (token and introspection endpoints). */
export type ClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Adds client authentication to one token request (headers and form are mutated). */
export type ApplyClientAuthentication = (request: { headers: Record<string, string>; form: URLSearchParams }) => Promise<void>;

export interface ClientAuthenticationOptions {
  clientId: string;
  method: ClientAuthenticationMethod;
  clientSecret?: string | undefined;
  /** For private_key_jwt. */
  signingKey?: SigningKey | undefined;
  /** `aud` of private_key_jwt assertions: the issuer when known, else the token endpoint (RFC 7523 §3). */
  assertionAudience: string;
  now?: () => number;
}

/** RFC 7523 §2.2 client assertion type. */
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of a private_key_jwt assertion: long enough for clock skew, short enough to be useless if captured. */
const ASSERTION_TTL_SECONDS = 60;

/**
 * Client authentication at the token endpoint, chosen once from the config:
 * - client_secret_basic (RFC 6749 §2.3.1): id and secret form-urlencoded, then Basic;
 * - client_secret_post: both in the form body;
 * - private_key_jwt (RFC 7523 §2.2, OIDC Core §9): a fresh signed assertion per request
 *   (unique `jti`, so the AS's replay detection accepts each one).
 */
export function createClientAuthentication(options: ClientAuthenticationOptions): ApplyClientAuthentication {
  const { clientId, method } = options;
  const now = options.now ?? Date.now;
  switch (method) {
    case 'client_secret_basic': {
      const secret = requireValue(options.clientSecret, 'clientSecret');
      // §2.3.1: "the client identifier is encoded using the application/x-www-form-urlencoded
      // encoding algorithm", and so is the password, before Base64.
      const credentials = Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64');
      const header = `Basic ${credentials}`;
      return async ({ headers }) => {
        headers.authorization = header;
      };
    }
    case 'client_secret_post': {
      const secret = requireValue(options.clientSecret, 'clientSecret');
      return async ({ form }) => {
        form.set('client_id', clientId);
        form.set('client_secret', secret);
      };
    }
    case 'private_key_jwt': {
      const key = requireValue(options.signingKey, 'privateKey');
      return async ({ form }) => {
        const issuedAt = Math.floor(now() / 1000);
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: key.algorithm, kid: key.kid })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(options.assertionAudience)
          .setJti(randomUUID())
          .setIssuedAt(issuedAt)
          .setExpirationTime(issuedAt + ASSERTION_TTL_SECONDS)
          .sign(key.privateKey);
        form.set('client_id', clientId);
        form.set('client_assertion_type', JWT_BEARER_ASSERTION);
        form.set('client_assertion', assertion);
      };
    }
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function requireValue<T>(value: T | undefined, option: string): T {
  if (value === undefined) throw new TypeError(`"${option}" option is required for this client authentication method`);
  return value;
}
