/**
 * Builds `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3, RFC 9728 §5.1).
 *
 * `Bearer` comes first and is the only scheme: the official SDK client parses only
 * the first challenge. Every value goes through `quoteHeaderValue`, so data can
 * never end a quoted-string early or inject a header line.
 */
export interface BearerChallenge {
  /** Absolute URL of this resource's Protected Resource Metadata document. */
  resourceMetadataUrl: string;
  /** Scopes the client should request; omitted from the header when empty. */
  scopes: readonly string[];
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  errorDescription?: string;
}

export function buildBearerChallenge(challenge: BearerChallenge): string {
  const params = [`resource_metadata=${quoteHeaderValue(challenge.resourceMetadataUrl)}`];
  if (challenge.scopes.length > 0) params.push(`scope=${quoteHeaderValue(challenge.scopes.join(' '))}`);
  if (challenge.error) params.push(`error=${quoteHeaderValue(challenge.error)}`);
  if (challenge.errorDescription) {
    params.push(`error_description=${quoteHeaderValue(challenge.errorDescription)}`);
  }
  return `Bearer ${params.join(', ')}`;
}

/**
 * RFC 9110 §5.6.4 quoted-string. Control characters are dropped (a CR/LF would
 * split the header), and so is anything beyond visible ASCII (node refuses to send
 * a header holding a character above U+00FF: the response would become a 500);
 * backslash and double quote are escaped.
 */
export function quoteHeaderValue(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '');
  return `"${printable.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}
