/**
 * How long a fetched client ID metadata document may be reused (CIMD §5.2: "SHOULD respect HTTP
 * cache headers … MAY define its own upper and/or lower bounds"), per RFC 9111 for a shared cache:
 * `no-store`, `no-cache` and `private` mean not at all; else `s-maxage`, then `max-age`, then
 * `Expires` − `Date`; minus `Age`; no header means not at all (no heuristic freshness). The
 * result is capped by the operator's `maxSeconds`.
 */
export function parseCacheLifetimeSeconds(
  headers: { cacheControl?: string | undefined; expires?: string | undefined; date?: string | undefined; age?: string | undefined },
  maxSeconds: number,
): number {
  const directives = new Map<string, string | undefined>();
  for (const part of (headers.cacheControl ?? '').split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (name) directives.set(name.toLowerCase(), value?.replace(/^"|"$/g, ''));
  }
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) return 0;

  let lifetime: number | undefined;
  for (const name of ['s-maxage', 'max-age']) {
    const value = directives.get(name);
    if (value !== undefined && /^\d+$/.test(value)) {
      lifetime = Number(value);
      break;
    }
  }
  if (lifetime === undefined && headers.expires) {
    const expires = Date.parse(headers.expires);
    const date = headers.date ? Date.parse(headers.date) : Number.NaN;
    // An invalid Expires (e.g. "0") means already expired (RFC 9111 §5.3).
    lifetime = Number.isNaN(expires) || Number.isNaN(date) ? 0 : Math.floor((expires - date) / 1000);
  }
  const age = headers.age && /^\d+$/.test(headers.age) ? Number(headers.age) : 0;
  return Math.max(0, Math.min(maxSeconds, (lifetime ?? 0) - age));
}
