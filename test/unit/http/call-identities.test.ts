/**
 * Point 3 of the Upstream identity issue: every forwarded call names its three identities on
 * the exchange (`upstreamIdentities`), set before forwarding so a call that fails upstream has
 * them too; the endpoint's record step reads them after `forward` settles, as here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SubjectToken, type Principal } from '../../../src/auth/index.js';
import { validateConfig, type GatewayConfigInput } from '../../../src/config/index.js';
import { buildErrorResponse } from '../../../src/errors/index.js';
import type { McpExchange } from '../../../src/http/mcp/exchange.js';
import { forward } from '../../../src/http/mcp/forward.js';
import { silentLogger } from '../../../src/log/index.js';
import { ToolHeaderRegistry } from '../../../src/mcp-headers/index.js';
import { PolicyStore } from '../../../src/policy/index.js';
import { createForwarder } from '../../../src/proxy/index.js';
import { RequestTrace } from '../../../src/tracing/index.js';
import { createUpstreamAuth, type CallIdentities } from '../../../src/upstream-auth/index.js';
import { TLS } from '../../helpers/tls-fixtures.js';
import { httpUpstream } from '../../helpers/http-upstream.js';

const USER_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.dXNlci10b2tlbg';
const principal: Principal = {
  issuer: 'https://as.example.com',
  subject: 'alice',
  clientId: 'claude-desktop',
  scopes: new Set(['tickets:read']),
  claims: { sub: 'alice' },
  expiresAt: Math.floor(Date.now() / 1000) + 300,
  tokenFingerprint: 'abc',
  authenticationMethod: 'jwt',
};

/** Runs one call through `forward` towards an upstream that is not there, recording what audit would see. */
async function recordCall(upstream: GatewayConfigInput['upstream']): Promise<{ identities: CallIdentities | undefined; status: number }> {
  const config = validateConfig({ resource: { url: 'https://mcp.example.com/mcp' }, authorizationServers: [{ issuer: 'https://as.example.com' }], upstream });
  const upstreamAuth = createUpstreamAuth(config, { logger: silentLogger });
  const forwarder = createForwarder({ upstream: httpUpstream(config), trustForwardedHeaders: false, publicUrl: config.resource.url, auth: upstreamAuth });
  const policy = (await PolicyStore.create({ directory: undefined, logger: silentLogger, watch: false, pollIntervalMs: 0, debounceMs: 0 })).current;
  // Nothing is written to these: the upstream is not there, so forwarding fails before any response.
  const incoming = { method: 'POST', url: '/mcp', headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  const outgoing = { once: () => undefined, off: () => undefined } as unknown as ServerResponse;
  const exchange: McpExchange = {
    incoming,
    outgoing,
    method: 'POST',
    observation: { requestId: 'r-1', startedAt: performance.now(), time: new Date(), trace: new RequestTrace(undefined, undefined, 1) },
    principal,
    subjectToken: new SubjectToken(USER_TOKEN),
    rawBody: Buffer.from('{}'),
    rpcBody: { batch: false, messages: [], value: {} },
  };
  const options = { forwarder, sessions: undefined, sse: { keepAliveMs: 0, idleTimeoutMs: 0 }, upstreamAuth, tools: new ToolHeaderRegistry(), maxListResponseBytes: 1 << 20, metrics: undefined, logger: silentLogger };
  let status = 200;
  try {
    await forward(exchange, principal, policy, options);
  } catch (error) {
    status = buildErrorResponse(error, { resourceMetadataUrl: 'x', challengeScopes: [], jsonRpc: true }).status;
  }
  await forwarder.close();
  return { identities: exchange.upstreamIdentities, status };
}

describe('call identities for audit', () => {
  it('names user, agent and a static credential with its mTLS certificate, even when the upstream is down', async () => {
    const { identities, status } = await recordCall({
      url: 'https://127.0.0.1:1/mcp',
      credential: { header: 'X-API-Key', value: 'service-key-secret' },
      tls: { clientCertificate: TLS.clientCertificate, clientKey: TLS.clientKey, ca: TLS.ca },
      connectTimeoutMs: 1000,
    });
    expect(status).toBe(502);
    expect(identities).toEqual({
      user: { subject: 'alice', issuer: 'https://as.example.com' },
      agent: { clientId: 'claude-desktop' },
      service: {
        kind: 'static',
        header: 'X-API-Key',
        clientCertificate: { subject: expect.stringContaining('CN=mcp-auth-gateway'), fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) },
      },
    });
    expect(JSON.stringify(identities)).not.toContain('service-key-secret');
  });

  it('for token exchange: the credential is the user\'s, obtained by the gateway\'s client; never a token', async () => {
    const { identities, status } = await recordCall({
      url: 'http://127.0.0.1:1/mcp',
      credential: {
        type: 'token_exchange',
        tokenEndpoint: 'http://127.0.0.1:1/token',
        clientId: 'mcp-gateway',
        clientSecret: 'gateway-secret',
        resource: 'http://127.0.0.1:1/mcp',
        timeoutMs: 500,
      },
    });
    // The AS is not there either: 503 before anything is sent upstream.
    expect(status).toBe(503);
    expect(identities).toEqual({
      user: { subject: 'alice', issuer: 'https://as.example.com' },
      agent: { clientId: 'claude-desktop' },
      service: { kind: 'token_exchange', clientId: 'mcp-gateway', subject: 'alice', authorizationServer: 'http://127.0.0.1:1/token', target: 'http://127.0.0.1:1/mcp' },
    });
    expect(JSON.stringify(identities)).not.toContain(USER_TOKEN);
  });

  it('no credential configured: kind none', async () => {
    const { identities } = await recordCall({ url: 'http://127.0.0.1:1/mcp', connectTimeoutMs: 500 });
    expect(identities?.service).toEqual({ kind: 'none' });
  });
});
