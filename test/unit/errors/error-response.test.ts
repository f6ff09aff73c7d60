import { describe, expect, it } from 'vitest';
import { buildErrorResponse, ERROR_TABLE, GatewayError, type GatewayErrorCode } from '../../../src/errors/index.js';

const context = { resourceMetadataUrl: 'https://x/.well-known/oauth-protected-resource/mcp', challengeScopes: ['tickets:read'], jsonRpc: true };

describe('buildErrorResponse', () => {
  it.each(Object.keys(ERROR_TABLE) as GatewayErrorCode[])('%s: status, body and challenge come from the table', (code) => {
    const mapping = ERROR_TABLE[code];
    const response = buildErrorResponse(new GatewayError(code, { detail: 'operator-only detail' }), { ...context, jsonRpcId: 7 });
    expect(response.status).toBe(mapping.status);
    const body = JSON.parse(response.body) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(mapping.jsonRpcCode);
    expect(response.body).not.toContain('operator-only detail');
    expect(Boolean(response.headers['www-authenticate'])).toBe(mapping.challenge);
    expect(response.headers['www-authenticate'] ?? '').not.toMatch(/error_description="[^"]*[=][^"]*"/);
  });

  it('hides anything that is not a GatewayError behind a generic 500', () => {
    const response = buildErrorResponse(new Error('database password is hunter2'), { ...context, jsonRpc: false });
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(JSON.parse(response.body)).toEqual({ error: 'internal', error_description: 'Internal error' });
  });

  it('uses OAuth-style bodies off the MCP endpoint', () => {
    const response = buildErrorResponse(new GatewayError('not_found'), { ...context, jsonRpc: false });
    expect(JSON.parse(response.body)).toEqual({ error: 'not_found', error_description: 'Not found' });
  });
});
