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

/** An RFC 8414 / OpenID Connect Discovery document whose `issuer` matched. */
export type IssuerMetadata = { issuer: string } & Record<string, unknown>;

/**
 * No usable metadata document. `transient` is true when at least one attempt failed in a way
 * that may pass (network error, timeout, 5xx, 429) rather than a definitive answer (4xx, wrong
 * issuer, missing field), so callers can retry the one and report the other as misconfiguration.
 */
export class MetadataDiscoveryError extends Error {
  override readonly name = 'MetadataDiscoveryError';
  readonly transient: boolean;

  constructor(message: string, transient: boolean) {
    super(message);
    this.transient = transient;
  }
}

/**
 * Fetches the issuer's metadata from the URLs of `buildMetadataUrls`, in order, and returns the
 * first document that names this issuer exactly (RFC 8414 §3.3, so a document for another
 * issuer can never supply endpoints or keys) and has `requiredField` as a string.
 * @throws MetadataDiscoveryError listing what each URL answered.
 */
export async function loadIssuerMetadata(
  issuer: string,
  { fetch: fetchImpl = fetch, timeoutMs, requiredField }: { fetch?: FetchLike; timeoutMs: number; requiredField: string },
): Promise<IssuerMetadata> {
  const problems: string[] = [];
  let transient = false;
  for (const url of buildMetadataUrls(issuer)) {
    try {
      const response = await fetchImpl(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        transient ||= response.status >= 500 || response.status === 429;
        await response.body?.cancel();
        problems.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const metadata = (await response.json()) as Record<string, unknown>;
      if (metadata.issuer !== issuer) {
        problems.push(`${url}: metadata issuer does not match`);
        continue;
      }
      if (typeof metadata[requiredField] !== 'string') {
        problems.push(`${url}: no ${requiredField}`);
        continue;
      }
      return metadata as IssuerMetadata;
    } catch (error) {
      transient = true;
      problems.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new MetadataDiscoveryError(`cannot discover ${requiredField} for ${issuer}: ${problems.join('; ')}`, transient);
}

/** Finds the issuer's `jwks_uri` from its metadata (see `loadIssuerMetadata`). */
export async function discoverJwksUri(issuer: string, options: { fetch?: FetchLike; timeoutMs: number }): Promise<string> {
  try {
    const metadata = await loadIssuerMetadata(issuer, { ...options, requiredField: 'jwks_uri' });
    return metadata.jwks_uri as string;
  } catch (error) {
    throw new GatewayError('service_unavailable', { detail: (error as Error).message });
  }
}
