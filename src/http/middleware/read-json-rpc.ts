import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors/index.js';
import { parseJsonRpcBody } from '../../jsonrpc/index.js';
import { checkJsonShape } from '../../limits/index.js';
import type { GatewayEnv } from '../context.js';
import { readHeader } from '../request-headers.js';

/**
 * Reads and parses a POST body as JSON-RPC, up to `maxBodyBytes` (→ 413), no
 * deeper than `maxJsonDepth` and with at most `maxBatchLength` messages (→ 400). The
 * bytes are kept and forwarded as received, so the upstream sees exactly what the
 * client sent and the gateway never re-serializes JSON. GET and DELETE carry no body.
 */
export function createReadJsonRpc({ maxBodyBytes, maxBatchLength, maxJsonDepth }: { maxBodyBytes: number; maxBatchLength: number; maxJsonDepth: number }): MiddlewareHandler<GatewayEnv> {
  return async function readJsonRpc(c, next) {
    if (c.req.method !== 'POST') return next();
    const contentType = readHeader(c, 'content-type');
    if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())) {
      throw new GatewayError('unsupported_media_type');
    }
    const declared = Number(readHeader(c, 'content-length'));
    if (declared > maxBodyBytes) throw new GatewayError('body_too_large', { headers: { connection: 'close' } });
    const incoming = c.env?.incoming;
    const body = incoming ? await readBody(incoming, maxBodyBytes) : Buffer.from(await c.req.arrayBuffer());
    if (body.byteLength > maxBodyBytes) throw new GatewayError('body_too_large');
    c.set('rawBody', body);
    checkJsonShape(body, { maxDepth: maxJsonDepth });
    const rpcBody = parseJsonRpcBody(body);
    if (rpcBody.messages.length > maxBatchLength) {
      throw new GatewayError('invalid_request', { publicMessage: `A batch may hold at most ${maxBatchLength} messages` });
    }
    c.set('rpcBody', rpcBody);
    await next();
  };
}

/** Collects the request body, stopping (without buffering more) once it exceeds the limit. */
function readBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        cleanup();
        // Stop reading; the response will close the connection.
        incoming.pause();
        reject(new GatewayError('body_too_large', { headers: { connection: 'close' } }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new GatewayError('invalid_request', { detail: 'request body could not be read', cause: error }));
    };
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('aborted', onAborted);
    };
    const onAborted = () => onError(new Error('client aborted the request'));
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', onError);
    incoming.once('aborted', onAborted);
  });
}
