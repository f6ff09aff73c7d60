import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/index.js';
import { parseJsonRpcBody } from '../../src/jsonrpc/index.js';
import { checkMirroredHeaders, decodeHeaderValue, ToolHeaderRegistry } from '../../src/mcp-headers/index.js';

const tools = new ToolHeaderRegistry();
tools.learn([
  {
    name: 'execute_sql',
    inputSchema: {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        limit: { type: 'integer', 'x-mcp-header': 'Limit' },
        options: { type: 'object', properties: { dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' } } },
        query: { type: 'string' },
      },
    },
  },
]);

const call = (args: Record<string, unknown>, name = 'execute_sql') =>
  parseJsonRpcBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }));

function check(body: ReturnType<typeof call>, headers: Record<string, string>): string {
  try {
    checkMirroredHeaders(body, (name) => headers[name], tools);
    return 'ok';
  } catch (error) {
    return (error as GatewayError).code;
  }
}

const v2026 = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'execute_sql' };

describe('mirrored headers (2026-07-28)', () => {
  it.each([
    ['all headers match', { region: 'us-west1', limit: 5, query: 'q' }, { ...v2026, 'mcp-param-region': 'us-west1', 'mcp-param-limit': '5' }, 'ok'],
    ['integers compare numerically', { limit: 42 }, { ...v2026, 'mcp-param-limit': '42.0' }, 'ok'],
    ['nested annotated property', { options: { dry: true } }, { ...v2026, 'mcp-param-dry-run': 'true' }, 'ok'],
    ['base64 sentinel', { region: 'Hello, 世界' }, { ...v2026, 'mcp-param-region': `=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=` }, 'ok'],
    ['value in body, header missing', { region: 'eu' }, v2026, 'header_mismatch'],
    ['header disagrees with body', { region: 'eu' }, { ...v2026, 'mcp-param-region': 'us' }, 'header_mismatch'],
    ['header without a body value', {}, { ...v2026, 'mcp-param-region': 'us' }, 'header_mismatch'],
    ['invalid base64', { region: 'eu' }, { ...v2026, 'mcp-param-region': '=?base64?***?=' }, 'header_mismatch'],
    ['null body value, no header', { region: null }, v2026, 'ok'],
    ['unknown Mcp-Param headers are left alone', {}, { ...v2026, 'mcp-param-other': 'x' }, 'ok'],
    ['Mcp-Name missing on 2026-07-28', {}, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' }, 'header_mismatch'],
    ['Mcp-Method missing on 2026-07-28', {}, { 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'execute_sql' }, 'header_mismatch'],
    ['older revision: headers optional', { region: 'eu' }, { 'mcp-protocol-version': '2025-11-25' }, 'ok'],
    ['older revision: present headers still checked', {}, { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/list' }, 'header_mismatch'],
    ['case matters in values', {}, { ...v2026, 'mcp-name': 'Execute_SQL' }, 'header_mismatch'],
  ])('%s → %s', (_name, args, headers, expected) => {
    expect(check(call(args), headers as Record<string, string>)).toBe(expected);
  });

  it('checks _meta protocolVersion against the header', () => {
    const body = parseJsonRpcBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } } }));
    expect(check(body, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' })).toBe('header_mismatch');
  });

  it('refuses batches on 2026-07-28', () => {
    const body = parseJsonRpcBody('[{"jsonrpc":"2.0","id":1,"method":"ping"}]');
    expect(check(body, { 'mcp-protocol-version': '2026-07-28' })).toBe('invalid_request');
    expect(check(body, {})).toBe('ok');
  });

  it('decodes the sentinel form only when exact', () => {
    expect(decodeHeaderValue('=?base64?aGk=?=')).toBe('hi');
    expect(decodeHeaderValue('=?BASE64?aGk=?=')).toBe('=?BASE64?aGk=?=');
    expect(decodeHeaderValue('plain')).toBe('plain');
  });
});
