import { GatewayError } from '../errors/index.js';

export type FetchLike = typeof fetch;

/**
 * The metadata URLs to try for an issuer, in order: RFC 8414 §3.1 (path
 * inserted after the host), then OpenID Connect Discovery (path appended), then
 * the OpenID path inserted (some providers serve it that way).
 */
export function buildMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
    ...(path ? [`${url.origin}/.well-known/openid-configuration${path}`] : []),
  ];
}

/**
 * Finds the issuer's `jwks_uri` from its metadata. The document's `issuer`
 * must equal the configured one exactly (RFC 8414 §3.3), so a metadata document
 * for another issuer can never supply keys.
 */
export async function discoverJwksUri(issuer: string, { fetch: fetchImpl = fetch, timeoutMs }: { fetch?: FetchLike; timeoutMs: number }): Promise<string> {
  const problems: string[] = [];
  for (const url of buildMetadataUrls(issuer)) {
    try {
      const response = await fetchImpl(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        problems.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== issuer) {
        problems.push(`${url}: metadata issuer does not match`);
        continue;
      }
      if (typeof metadata.jwks_uri !== 'string') {
        problems.push(`${url}: no jwks_uri`);
        continue;
      }
      return metadata.jwks_uri;
    } catch (error) {
      problems.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new GatewayError('service_unavailable', { detail: `cannot discover jwks_uri for ${issuer}: ${problems.join('; ')}` });
}
