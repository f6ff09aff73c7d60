/**
 * Canonical form of an audience / resource identifier for comparison: scheme
 * and host are case-insensitive, the default port is dropped and a trailing slash
 * on the path is ignored (MCP authorization spec: servers SHOULD accept uppercase
 * scheme and host and be consistent about the trailing slash). Strings that are
 * not URLs (an Auth0 API identifier, a client id) compare exactly.
 */
export function canonicalAudience(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : '';
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** Returns a predicate that accepts an `aud` claim (string or array) naming any accepted audience. */
export function createAudienceMatcher(accepted: readonly string[]): (aud: unknown) => boolean {
  const canonical = new Set(accepted.map(canonicalAudience));
  return (aud) => {
    if (typeof aud === 'string') return canonical.has(canonicalAudience(aud));
    if (Array.isArray(aud)) return aud.some((entry) => typeof entry === 'string' && canonical.has(canonicalAudience(entry)));
    return false;
  };
}
