/**
 * Mutual TLS towards the upstream: the gateway presents its client certificate to an HTTPS
 * upstream that requires one issued by its CA.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { SERVICE_KEY, startStack, type Stack } from '../helpers/stack.js';
import { TLS } from '../helpers/tls-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const ping = { jsonrpc: '2.0', id: 3, method: 'ping' };
const stateless = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' };

async function mtlsStack(tls: Record<string, string> | undefined): Promise<Stack> {
  const stack = await startStack({
    upstream: { tls: { cert: TLS.serverCertificate, key: TLS.serverKey, ca: TLS.ca, requestClientCertificate: true } },
    config: (config) => ({ ...config, upstream: { ...config.upstream, ...(tls ? { tls } : {}) } }),
  });
  cleanups.push(() => stack.close());
  return stack;
}

describe('mTLS towards the upstream', () => {
  it('presents the client certificate; the upstream sees it', async () => {
    const stack = await mtlsStack({ clientCertificate: TLS.clientCertificate, clientKey: TLS.clientKey, ca: TLS.ca });
    const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...stateless });
    expect(response.status).toBe(200);
    await response.text();
    const seen = stack.upstream.seen.at(-1)!;
    expect(seen.verified.clientCertificate?.subject).toContain('CN=mcp-auth-gateway');
    // The static credential still goes along.
    expect(seen.headers['x-api-key']).toBe(SERVICE_KEY);
  });

  it('without a client certificate the handshake fails → 502 JSON-RPC error', async () => {
    const stack = await mtlsStack({ ca: TLS.ca });
    const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...stateless });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ id: 3, error: { code: -32603 } });
    expect(stack.upstream.seen).toHaveLength(0);
  });

  it('an upstream certificate from an unknown CA is refused → 502', async () => {
    const stack = await mtlsStack(undefined);
    const response = await mcpPost(stack.mcpUrl, ping, { ...bearer(await stack.obtainToken()), ...stateless });
    expect(response.status).toBe(502);
    await response.text();
  });
});
