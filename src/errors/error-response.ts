import { buildBearerChallenge } from '../discovery/challenge.js';
import { buildJsonRpcError, type JsonRpcId } from '../jsonrpc/message.js';
import { mappingFor } from './error-table.js';
import { GatewayError } from './gateway-error.js';

export interface ErrorResponseContext {
  /** Absolute PRM URL named in every challenge. */
  resourceMetadataUrl: string;
  /** Scopes for a 401 challenge (the baseline a client needs to start). */
  challengeScopes: readonly string[];
  /** True on the MCP endpoint, where the client speaks JSON-RPC and gets a JSON-RPC error body. */
  jsonRpc: boolean;
  /** The request id to echo in the JSON-RPC error, when known. */
  jsonRpcId?: JsonRpcId;
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The one serializer that decides what of an error leaves the process: the
 * table's status, challenge and fixed message (or the error's `publicMessage`).
 * `detail` and `cause` never do; anything that is not a `GatewayError` becomes a
 * generic `internal` error.
 */
export function buildErrorResponse(error: unknown, context: ErrorResponseContext): ErrorResponse {
  const gatewayError = error instanceof GatewayError ? error : new GatewayError('internal', { cause: error });
  const mapping = mappingFor(gatewayError.code);
  const message = gatewayError.publicMessage ?? mapping.message;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...gatewayError.headers,
  };
  if (mapping.challenge) {
    headers['www-authenticate'] = buildBearerChallenge({
      resourceMetadataUrl: context.resourceMetadataUrl,
      scopes: gatewayError.requiredScopes ?? context.challengeScopes,
      error: mapping.oauthError,
      // Only fixed table texts go into the header: a description built from data
      // could carry `"` or `=`, which the SDK client's regex parser mishandles.
      errorDescription: mapping.oauthError ? mapping.message : undefined,
    });
  }
  const body = context.jsonRpc
    ? buildJsonRpcError(context.jsonRpcId ?? null, mapping.jsonRpcCode, message, errorData(gatewayError))
    : JSON.stringify({ error: mapping.oauthError ?? gatewayError.code, error_description: message });
  return { status: mapping.status, headers, body };
}

function errorData(error: GatewayError): Record<string, unknown> | undefined {
  const mapping = mappingFor(error.code);
  if (error.data) return mapping.oauthError ? { error: mapping.oauthError, ...error.data } : error.data;
  if (mapping.oauthError) return { error: mapping.oauthError };
  return undefined;
}
