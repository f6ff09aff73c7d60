import type { Context } from 'hono';
import type { GatewayEnv } from './context.js';

/**
 * Reads a request header. On node it reads `IncomingMessage.headers` directly,
 * which avoids building a WHATWG `Headers` object per request; under
 * `app.request()` (tests) it falls back to the Fetch API request.
 * Node joins repeated headers with ", " except those it de-duplicates.
 */
export function readHeader(c: Context<GatewayEnv>, name: Lowercase<string>): string | undefined {
  const incoming = c.env?.incoming;
  if (incoming) {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return c.req.header(name);
}

/** The raw request target's query string, including the leading `?`, or ''. */
export function readSearch(c: Context<GatewayEnv>): string {
  const url = c.env?.incoming?.url ?? c.req.url;
  const index = url.indexOf('?');
  return index >= 0 ? url.slice(index) : '';
}
