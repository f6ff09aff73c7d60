import { GatewayError } from '../errors/index.js';
import type { JsonRpcBody } from '../jsonrpc/index.js';
import { decodeHeaderValue, headerFormOf } from './header-value.js';
import type { ToolHeaderRegistry } from './tool-header-registry.js';

/** The first protocol revision whose clients must mirror body fields into headers. */
const HEADERS_REQUIRED_FROM = '2026-07-28';

const NAME_FIELD: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

export type HeaderReader = (name: Lowercase<string>) => string | undefined;

/**
 * 2026-07-28 transport, "Server Validation": headers that mirror the body
 * (`Mcp-Method`, `Mcp-Name`, recognized `Mcp-Param-*`, `MCP-Protocol-Version`
 * against `_meta`) must match it, else 400 / -32020 HeaderMismatch. The gateway
 * decides from the body; this check makes sure nothing in front of or behind
 * it can be made to route or act on a different value.
 *
 * For older revisions the headers are optional, but when present they are
 * still checked: a header that disagrees with the body is never harmless.
 *
 * @throws GatewayError header_mismatch / invalid_request
 */
export function checkMirroredHeaders(body: JsonRpcBody, readHeader: HeaderReader, tools: ToolHeaderRegistry): void {
  const version = readHeader('mcp-protocol-version');
  const required = version !== undefined && version >= HEADERS_REQUIRED_FROM;
  const methodHeader = readHeader('mcp-method');
  const nameHeader = readHeader('mcp-name');
  if (body.batch) {
    if (required) throw new GatewayError('invalid_request', { publicMessage: 'Batches are not part of this protocol revision' });
    return;
  }
  const [message] = body.messages;
  if (!message || message.kind === 'response') return;

  if (methodHeader === undefined) {
    if (required && message.kind === 'request') mismatch('Mcp-Method header is required');
  } else if (methodHeader !== message.method) {
    mismatch('Mcp-Method header does not match the body method');
  }

  const params = (typeof message.params === 'object' && message.params !== null ? message.params : {}) as Record<string, unknown>;
  const nameField = NAME_FIELD[message.method];
  if (nameField) {
    if (nameHeader === undefined) {
      if (required) mismatch('Mcp-Name header is required');
    } else if (decodeHeaderValue(nameHeader) !== params[nameField]) {
      mismatch('Mcp-Name header does not match the body');
    }
  }

  const meta = params._meta as Record<string, unknown> | undefined;
  const bodyVersion = meta?.['io.modelcontextprotocol/protocolVersion'];
  if (version !== undefined && typeof bodyVersion === 'string' && bodyVersion !== version) {
    mismatch('MCP-Protocol-Version header does not match _meta');
  }

  if (message.method === 'tools/call' && typeof params.name === 'string') {
    const annotations = tools.headersOf(params.name);
    const args = params.arguments;
    for (const { header, path } of annotations ?? []) {
      const expected = headerFormOf(readPath(args, path));
      const actual = readHeader(header as Lowercase<string>);
      if (actual === undefined && (expected === undefined || !required)) continue;
      if (actual === undefined) mismatch(`${header} header is required for this argument`);
      const decoded = decodeHeaderValue(actual);
      if (decoded === undefined) mismatch(`${header} header is not valid Base64`);
      if (!sameValue(decoded, expected)) mismatch(`${header} header does not match the body`);
    }
  }
}

/** Integers compare numerically (`42.0` equals `42`), everything else as strings. */
function sameValue(header: string, body: string | undefined): boolean {
  if (body === undefined) return false;
  if (header === body) return true;
  return /^-?\d+$/.test(body) && Number(header) === Number(body) && header.trim() !== '';
}

function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current ?? undefined;
}

function mismatch(detail: string): never {
  // The message is fixed text on purpose: it must not echo header values.
  throw new GatewayError('header_mismatch', { publicMessage: `Header mismatch: ${detail}` });
}
