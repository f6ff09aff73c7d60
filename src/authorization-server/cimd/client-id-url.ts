/**
 * Client Identifier URLs (CIMD §3): https, no user info, a path other than `/`, no dot segments,
 * no fragment. The facade also refuses a query (a SHOULD NOT in the draft) and a URL that is not
 * in its normalised form (RFC 3986 §6.2.2–6.2.3: lowercase host, no default port, no dot
 * segments): client ids are compared as plain strings, so only one spelling of a client is accepted.
 */
const MAX_CLIENT_ID_URL_LENGTH = 2048;

/** Whether a client_id is meant as a Client Identifier URL (the facade's own ids never start with https://). */
export function looksLikeClientIdUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** What is wrong with a Client Identifier URL, or undefined when it is acceptable. */
export function describeClientIdUrlProblem(clientId: string): string | undefined {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return 'the client id URL is too long';
  const url = URL.parse(clientId);
  if (!url || url.protocol !== 'https:') return 'a client id URL must be an absolute https URL';
  if (url.username || url.password) return 'a client id URL must not contain user information';
  if (clientId.includes('#')) return 'a client id URL must not contain a fragment';
  if (clientId.includes('?')) return 'a client id URL must not contain a query';
  if (url.pathname === '/' || url.pathname === '') return 'a client id URL must have a path';
  if (url.href !== clientId) return 'a client id URL must be in normalised form (lowercase host, no default port, no dot segments)';
  return undefined;
}
