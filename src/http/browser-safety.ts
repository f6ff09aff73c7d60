/**
 * Origin and Host checks and CORS for the MCP endpoint (MCP transports:
 * servers MUST validate Origin; present and not allowed → 403; DNS rebinding).
 * Pure functions on header values; the middleware applies them.
 */

/** Request headers a browser-based MCP client sends (2025-11-25 and 2026-07-28), allowed in CORS preflights. */
const ALLOWED_REQUEST_HEADERS = new Set([
  'authorization',
  'content-type',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'mcp-method',
  'mcp-name',
  'traceparent',
  'tracestate',
  'x-request-id',
]);

/** Response headers a browser client must be able to read. */
export const EXPOSED_RESPONSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, X-Request-Id';

export interface OriginPolicy {
  /** Allowed origins (`https://app.example.com`), or `*` for any. */
  allowedOrigins: ReadonlySet<string>;
  /** When set, the Host header must be one of these (`mcp.example.com`, `mcp.example.com:8443`). */
  allowedHosts: ReadonlySet<string> | undefined;
}

export function buildOriginPolicy(allowedOrigins: readonly string[], allowedHosts: readonly string[] | undefined): OriginPolicy {
  return {
    allowedOrigins: new Set(allowedOrigins.map((origin) => (origin === '*' ? origin : new URL(origin).origin))),
    allowedHosts: allowedHosts ? new Set(allowedHosts.map((host) => host.toLowerCase())) : undefined,
  };
}

export function isOriginAllowed(policy: OriginPolicy, origin: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser request
  return policy.allowedOrigins.has('*') || policy.allowedOrigins.has(origin);
}

export function isHostAllowed(policy: OriginPolicy, host: string | undefined): boolean {
  if (!policy.allowedHosts) return true;
  return host !== undefined && policy.allowedHosts.has(host.toLowerCase());
}

/** Headers for an actual (non-preflight) response to an allowed browser origin. */
export function buildCorsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS, vary: 'Origin' };
}

/**
 * The answer to a CORS preflight from an allowed origin. Only the headers a
 * client may send are allowed (`Mcp-Param-*` included, since their names come
 * from tool schemas); anything else is left out, so the browser refuses it.
 */
export function buildPreflightHeaders(origin: string, requestedHeaders: string | undefined): Record<string, string> {
  const allowed = (requestedHeaders ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && (ALLOWED_REQUEST_HEADERS.has(name) || /^mcp-param-[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)));
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, DELETE',
    ...(allowed.length > 0 ? { 'access-control-allow-headers': allowed.join(', ') } : {}),
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Headers',
  };
}
