import { describe, expect, it } from 'vitest';
import { buildClientHeaders, buildUpstreamHeaders } from '../../../src/proxy/index.js';

const context = {
  gatewayHeaders: { 'x-api-key': 'svc' },
  remoteAddress: '10.0.0.7',
  trustForwardedHeaders: false,
  publicProto: 'https',
  publicHost: 'mcp.example.com',
};

describe('buildUpstreamHeaders', () => {
  it('drops credentials and hop-by-hop headers, keeps MCP headers, adds the service credential', () => {
    const headers = buildUpstreamHeaders(
      {
        authorization: 'Bearer user-token',
        cookie: 'a=b',
        'proxy-authorization': 'Basic x',
        connection: 'keep-alive, x-custom-hop',
        'keep-alive': 'timeout=5',
        'x-custom-hop': 'drop me',
        'transfer-encoding': 'chunked',
        te: 'trailers',
        upgrade: 'h2c',
        host: 'mcp.example.com',
        'content-length': '12',
        'x-forwarded-for': '1.2.3.4',
        forwarded: 'for=1.2.3.4',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 's1',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'echo',
        'mcp-param-region': '=?base64?ZXU=?=',
        'last-event-id': '42',
        traceparent: '00-abc-def-01',
      },
      context,
    );
    expect(headers).toEqual({
      accept: 'application/json, text/event-stream',
      'mcp-session-id': 's1',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
      'mcp-param-region': '=?base64?ZXU=?=',
      'last-event-id': '42',
      traceparent: '00-abc-def-01',
      'x-forwarded-for': '10.0.0.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'mcp.example.com',
      'x-api-key': 'svc',
    });
  });

  it('a client cannot smuggle its own value for the service credential header', () => {
    const headers = buildUpstreamHeaders({ 'x-api-key': 'forged' }, context);
    expect(headers['x-api-key']).toBe('svc');
  });

  it('drops the identity headers a client sends; the gateway sets its own', () => {
    const headers = buildUpstreamHeaders(
      { 'x-mcp-user': 'admin', 'x-mcp-identity': 'forged', 'x-other': 'kept' },
      { ...context, alsoDrop: new Set(['x-mcp-user', 'x-mcp-identity']), gatewayHeaders: { 'x-mcp-user': 'alice' } },
    );
    expect(headers['x-mcp-user']).toBe('alice');
    expect(headers['x-mcp-identity']).toBeUndefined();
    expect(headers['x-other']).toBe('kept');
  });

  it('appends to X-Forwarded-For only when trusted', () => {
    expect(buildUpstreamHeaders({ 'x-forwarded-for': '1.2.3.4' }, { ...context, trustForwardedHeaders: true })['x-forwarded-for']).toBe('1.2.3.4, 10.0.0.7');
  });
});

describe('buildClientHeaders', () => {
  it('drops hop-by-hop, upstream challenges and cookies; adds X-Accel-Buffering', () => {
    expect(
      buildClientHeaders({
        'content-type': 'text/event-stream',
        'mcp-session-id': 's1',
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'www-authenticate': 'Bearer realm="upstream"',
        'set-cookie': ['a=b'],
        'cache-control': 'no-cache',
      }),
    ).toEqual({ 'content-type': 'text/event-stream', 'mcp-session-id': 's1', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  });
});
