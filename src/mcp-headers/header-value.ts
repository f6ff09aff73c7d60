/**
 * Decodes a mirrored header value: `=?base64?…?=` (2026-07-28 transport,
 * "Value Encoding") is the UTF-8 of the Base64 payload; anything else is the
 * value itself. The markers are case-sensitive.
 *
 * @returns undefined when the sentinel form holds invalid Base64
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const payload = value.slice('=?base64?'.length, -'?='.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) return undefined;
  return Buffer.from(payload, 'base64').toString('utf8');
}

/** How a body value must appear in a header (strings as-is, integers in decimal, booleans lowercase). */
export function headerFormOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
