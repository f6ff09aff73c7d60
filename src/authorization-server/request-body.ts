import { OAuthError } from './oauth-error.js';

/** Largest form or JSON body the facade reads (tokens, codes, registrations are far smaller). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a request body as text, at most `maxBytes` (a declared larger Content-Length is refused
 * before reading; a longer stream is cut off), after checking its media type.
 * @throws OAuthError invalid_request
 */
export async function readBody(request: Request, mediaType: 'application/x-www-form-urlencoded' | 'application/json', maxBytes = MAX_BODY_BYTES): Promise<string> {
  const type = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
  if (type !== mediaType) throw new OAuthError('invalid_request', `The request body must be ${mediaType}`);
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new OAuthError('invalid_request', 'The request body is too large');
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new OAuthError('invalid_request', 'The request body is too large');
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new OAuthError('invalid_request', 'The request body is not valid UTF-8');
  }
}

export async function readForm(request: Request): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(request, 'application/x-www-form-urlencoded'));
}

export async function readJson(request: Request): Promise<unknown> {
  const text = await readBody(request, 'application/json');
  try {
    return JSON.parse(text);
  } catch {
    throw new OAuthError('invalid_client_metadata', 'The request body is not valid JSON');
  }
}
