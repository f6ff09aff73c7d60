/**
 * Redirect URI rules for registered clients (dynamic registration and client ID metadata
 * documents), by OpenID Connect `application_type` (Registration 1.0 §2, RFC 8252):
 * - `web`: https only;
 * - `native`: http on a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3), a private-use
 *   scheme in reverse-domain form (`com.example.app:/cb`, RFC 8252 §7.1), or https (claimed URLs).
 * Always: absolute, no fragment (RFC 6749 §3.1.2), no user info, bounded length. Authorization
 * requests then match a registered URI by exact string comparison (RFC 9700 §4.1.1).
 */
export type ApplicationType = 'web' | 'native';

const MAX_REDIRECT_URI_LENGTH = 2000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** Schemes that must never receive a user: they run code, read files or are not navigations. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'ws:', 'wss:', 'ftp:', 'filesystem:']);

function parse(uri: string): URL | undefined {
  if (uri.length > MAX_REDIRECT_URI_LENGTH || uri.includes('#')) return undefined;
  return URL.parse(uri) ?? undefined;
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

function isPrivateUseScheme(url: URL): boolean {
  const scheme = url.protocol.slice(0, -1);
  return !['http', 'https'].includes(scheme) && !FORBIDDEN_SCHEMES.has(url.protocol) && /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme);
}

/** Whether the redirect URI goes back to the user's own machine (loopback or an app's scheme): worth a warning on consent. */
export function isLocalRedirect(uri: string): boolean {
  const url = parse(uri);
  return url !== undefined && (isLoopbackHttp(url) || isPrivateUseScheme(url));
}

/** The application type a client is treated as when it does not say: native when a redirect URI is local, else web. */
export function inferApplicationType(redirectUris: readonly string[]): ApplicationType {
  return redirectUris.some(isLocalRedirect) ? 'native' : 'web';
}

/** What is wrong with a redirect URI for this application type, or undefined when it is acceptable. */
export function describeRedirectUriProblem(uri: string, applicationType: ApplicationType): string | undefined {
  const url = parse(uri);
  if (!url) return 'redirect URIs must be absolute URIs without a fragment';
  if (url.username || url.password) return 'redirect URIs must not contain user information';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return 'this redirect URI scheme is not allowed';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'https redirect URIs need a host';
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) return 'plain http redirect URIs are allowed only on a loopback host (127.0.0.1, [::1], localhost)';
    return applicationType === 'native' ? undefined : 'loopback redirect URIs belong to native applications (application_type native)';
  }
  if (!isPrivateUseScheme(url)) return 'private-use redirect URI schemes must be in reverse domain name form, e.g. com.example.app';
  return applicationType === 'native' ? undefined : 'private-use scheme redirect URIs belong to native applications (application_type native)';
}
