import { GatewayError } from '../errors/index.js';

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

/** Maps an error from the upstream request to the client-facing error: timeouts → 504, everything else → 502. */
export function classifyUpstreamError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = findCode(error);
  const detail = `upstream request failed: ${code ?? (error as Error)?.message ?? 'unknown error'}`;
  if (code && TIMEOUT_CODES.has(code)) return new GatewayError('upstream_timeout', { detail, cause: error });
  return new GatewayError('upstream_unreachable', { detail, cause: error });
}

/** undici wraps system errors (`ECONNREFUSED`) in `cause`; look one level down too. */
function findCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown })?.code;
  if (typeof own === 'string') return own;
  const inner = (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof inner === 'string' ? inner : undefined;
}

/** True when the request was aborted because the client went away (nothing left to answer). */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const code = (error as { code?: string })?.code;
  return name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR';
}
