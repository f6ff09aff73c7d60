import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../errors/index.js';
import { parseJsonRpcBody } from '../../jsonrpc/index.js';
import { checkJsonShape } from '../../limits/index.js';
import { readHeader, type McpExchange } from './exchange.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxBatchLength: number;
  maxJsonDepth: number;
}

/**
 * Reads and parses a POST body as JSON-RPC, up to `maxBodyBytes` (→ 413), no
 * deeper than `maxJsonDepth` and with at most `maxBatchLength` messages (→ 400). The
 * bytes are kept and forwarded as received, so the upstream sees exactly what the
 * client sent and the gateway never re-serializes JSON. GET and DELETE carry no body.
 */
export async function readJsonRpc(exchange: McpExchange, { maxBodyBytes, maxBatchLength, maxJsonDepth }: BodyLimits): Promise<void> {
  const contentType = readHeader(exchange, 'content-type');
  if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new GatewayError('unsupported_media_type');
  }
  const declared = Number(readHeader(exchange, 'content-length'));
  if (declared > maxBodyBytes) throw new GatewayError('body_too_large', { headers: { connection: 'close' } });
  const body = await readBody(exchange.incoming, maxBodyBytes);
  exchange.rawBody = body;
  checkJsonShape(body, { maxDepth: maxJsonDepth });
  const rpcBody = parseJsonRpcBody(body);
  if (rpcBody.messages.length > maxBatchLength) {
    throw new GatewayError('invalid_request', { publicMessage: `A batch may hold at most ${maxBatchLength} messages` });
  }
  exchange.rpcBody = rpcBody;
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
