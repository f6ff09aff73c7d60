import type { IncomingHttpHeaders } from 'node:http';

/**
 * RFC 9110 §7.6.1: connection-specific ("hop-by-hop") fields apply to one
 * connection only and are never forwarded; neither is any field the
 * `Connection` header names. `te` and `trailer` are listed too (RFC 9110 §10.1.4,
 * §6.6.2), as is the obsolete `proxy-connection` that some clients still send.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/**
 * Client credentials and identity claims that must never reach the upstream:
 * the client's token (token passthrough is forbidden by the MCP authorization
 * spec), its cookies, and forwarding headers we set ourselves.
 */
const NEVER_FORWARDED_UPSTREAM = new Set([
  'authorization',
  'cookie',
  'host',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
]);

/** Upstream response fields the client must not see from the upstream. */
const NEVER_FORWARDED_DOWNSTREAM = new Set([
  // An upstream challenge would send the client to re-authenticate against the
  // wrong party; the gateway owns every challenge the client sees.
  'www-authenticate',
  'set-cookie',
]);

export interface UpstreamHeaderContext {
  /**
   * Headers the gateway sets itself, names in lowercase: its own credential for the upstream and
   * the identity headers. Set last, so nothing the client sent can take their place.
   */
  gatewayHeaders?: Readonly<Record<string, string>>;
  /** The caller's address as seen on the socket. */
  remoteAddress: string | undefined;
  /** Keep an incoming X-Forwarded-For chain (only behind a trusted proxy). */
  trustForwardedHeaders: boolean;
  /** Scheme and host the client used (the configured public URL). */
  publicProto: string;
  publicHost: string;
  /** Lowercased header names to drop in addition (e.g. identity headers the gateway sets). */
  alsoDrop?: ReadonlySet<string>;
}

/** Headers for the upstream request: end-to-end client headers minus credentials, plus ours. */
export function buildUpstreamHeaders(incoming: IncomingHttpHeaders, context: UpstreamHeaderContext): Record<string, string | string[]> {
  const dropped = connectionListed(incoming.connection);
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_FORWARDED_UPSTREAM.has(name) || dropped?.has(name)) continue;
    if (context.alsoDrop?.has(name)) continue;
    headers[name] = value;
  }
  const previous = context.trustForwardedHeaders ? incoming['x-forwarded-for'] : undefined;
  const chain = [previous, context.remoteAddress].flat().filter((entry): entry is string => Boolean(entry));
  if (chain.length > 0) headers['x-forwarded-for'] = chain.join(', ');
  headers['x-forwarded-proto'] = context.publicProto;
  headers['x-forwarded-host'] = context.publicHost;
  Object.assign(headers, context.gatewayHeaders);
  return headers;
}

/** Headers for the client response: the upstream's end-to-end headers, plus `X-Accel-Buffering: no`. */
export function buildClientHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const dropped = connectionListed(upstream.connection);
  const headers: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_FORWARDED_DOWNSTREAM.has(name) || dropped?.has(name)) continue;
    headers[name] = value;
  }
  // Tells nginx-style buffering proxies in front of us to pass SSE events through
  // at once (2026-07-28 transport: servers SHOULD send it).
  headers['x-accel-buffering'] = 'no';
  return headers;
}

function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (!connection) return undefined;
  const names = (Array.isArray(connection) ? connection.join(',') : connection).split(',');
  return new Set(names.map((name) => name.trim().toLowerCase()).filter(Boolean));
}
