import { randomSecret } from './secrets.js';

/**
 * The browser a login runs in is bound to it by a cookie: the consent form (CSRF) and the return
 * from the identity provider (login CSRF, RFC 9700 §4.7) are accepted only from the browser that
 * started the authorization. `__Host-` prefix: Secure, Path=/, no Domain, so no sibling host can
 * set or read it; HttpOnly; SameSite=Lax, which still sends it on the top-level redirect back
 * from the identity provider. Only its SHA-256 is kept server-side.
 */
export const BINDING_COOKIE = '__Host-mcp-auth-binding';

const VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The binding value in a Cookie header, when well-formed. */
export function readBindingCookie(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === BINDING_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return VALUE.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** The browser's binding value (kept when it has one, so parallel logins in one browser coexist) and its Set-Cookie header. */
export function ensureBinding(cookieHeader: string | undefined, maxAgeSeconds: number): { value: string; setCookie: string } {
  const value = readBindingCookie(cookieHeader) ?? randomSecret();
  return { value, setCookie: `${BINDING_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}` };
}
