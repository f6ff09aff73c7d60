import { z } from 'zod';

/**
 * Building blocks shared by the config schema files (`schema.ts`, `credential-schema.ts`,
 * `identity-schema.ts`), so every secret, URL and header name is checked and described alike.
 */

/** A value that is a secret: never printed, never logged. Usually `${env:NAME}` or `${file:/path}`. */
export const secret = () => z.string().min(1).meta({ writeOnly: true });

export const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `expected an absolute http(s) URL for ${what}` });

/** RFC 7230 token: a header field name. */
export const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name such as Authorization or X-API-Key' });

export const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected a scope token (RFC 6749 §3.3: no spaces or quotes)' });
