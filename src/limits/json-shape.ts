import { GatewayError } from '../errors/index.js';

export interface JsonShapeLimits {
  /** Deepest nesting of objects and arrays accepted. */
  maxDepth: number;
}

/**
 * Refuses JSON nested deeper than the limit before `JSON.parse` sees it (deep
 * nesting makes recursive code elsewhere — ours, the upstream's — blow its
 * stack). One pass over the bytes; strings are skipped.
 *
 * @throws GatewayError invalid_request
 */
export function checkJsonShape(bytes: Uint8Array, { maxDepth }: JsonShapeLimits): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
      continue;
    }
    if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      depth += 1;
      if (depth > maxDepth) throw new GatewayError('invalid_request', { publicMessage: `JSON nested deeper than ${maxDepth} levels` });
    } else if (byte === 0x7d || byte === 0x5d) depth -= 1;
  }
}
