/**
 * Audit records, metrics and traces for real requests through the gateway.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/index.js';
import { callWithStepUp, connectWithOAuth, HeadlessOAuthProvider } from '../../src/demo/headless-oauth-client.js';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';

const policies = copyPolicies();
let stack: Stack;
let collector: { url: string; spans: Array<Record<string, unknown>>; close: () => Promise<void> };

/** An OTLP/HTTP JSON receiver on 127.0.0.1 (no OpenTelemetry Collector is available here). */
async function startTraceReceiver() {
  const spans: Array<Record<string, unknown>> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const payload = JSON.parse(text) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
      for (const resource of payload.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  collector = await startTraceReceiver();
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({
      ...config,
      audit: { redactKeys: ['ssn'], redactPaths: ['nested.list[*].pin'] },
      tracing: { otlpEndpoint: collector.url },
    }),
  });
});
afterAll(async () => {
  await stack?.close();
  await collector?.close();
  policies.remove();
});

const stateless = (method: string, name?: string) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });
const call = (name: string, args: Record<string, unknown>, id: number | string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const recordsFor = (requestId: string) => stack.auditRecords().filter((record) => record.requestId === requestId);

async function send(token: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; requestId: string; text: string }> {
  const response = await mcpPost(stack.mcpUrl, body, { ...bearer(token), ...headers });
  const text = await response.text();
  return { status: response.status, requestId: response.headers.get('x-request-id')!, text };
}

describe('audit records', () => {
  it('an allowed call: who, what (redacted arguments), the rule and scopes, the upstream result', async () => {
    const token = await stack.obtainToken('tickets:read');
    const args = { text: 'hello', password: 'hunter2', nested: { apiKey: 'k-123', ssn: '078-05-1120', list: [{ pin: '1234', keep: 'ok' }], note: `Bearer ${token}` } };
    const { status, requestId } = await send(token, call('echo', args, 'a-1'), stateless('tools/call', 'echo'));
    expect(status).toBe(200);
    const [record] = recordsFor(requestId) as [AuditRecord];
    const claims = decodeJwt(token);
    expect(record).toMatchObject({
      schema: 'mcp-auth-gateway.audit/v1',
      event: 'mcp.message',
      who: { issuer: stack.as.issuer, subject: 'demo-user', clientId: claims.client_id, authMethod: 'jwt', scopes: ['tickets:read'] },
      source: { ip: '127.0.0.1' },
      what: { httpMethod: 'POST', jsonrpcId: 'a-1', method: 'tools/call', target: { kind: 'tool', name: 'echo' } },
      decision: { effect: 'allow', reason: 'allowed', rules: [{ kind: 'tool', pattern: 'echo' }], requiredScopes: [], policyVersion: stack.gateway.policies.current.version },
      outcome: { status: 200, result: 'success' },
      // The third identity: the gateway's own credential towards the upstream (never its value).
      upstream: { credential: { kind: 'static', header: 'X-API-Key' } },
    });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(record.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.who!.tokenFingerprint).toHaveLength(12);
    expect(record.latencyMs).toBeGreaterThan(0);
    expect(record.upstreamMs).toBeGreaterThan(0);
    expect(record.what.arguments).toEqual({
      text: 'hello',
      password: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', ssn: '[REDACTED]', list: [{ pin: '[REDACTED]', keep: 'ok' }], note: 'Bearer [REDACTED:jwt]' },
    });
  });

  it('a denied call: the rule, required vs granted scopes, and a 403', async () => {
    const token = await stack.obtainToken('tickets:read');
    const { status, requestId } = await send(token, call('create_ticket', { title: 't' }, 'd-1'), stateless('tools/call', 'create_ticket'));
    expect(status).toBe(403);
    expect(recordsFor(requestId)).toEqual([
      expect.objectContaining({
        event: 'mcp.message',
        decision: expect.objectContaining({
          effect: 'deny',
          reason: 'insufficient_scope',
          rules: [expect.objectContaining({ kind: 'tool', pattern: 'create_ticket', id: 'tickets-write', line: expect.any(Number) })],
          requiredScopes: ['tickets:write'],
          missingScopes: ['tickets:write'],
        }),
        who: expect.objectContaining({ scopes: ['tickets:read'] }),
        outcome: { status: 403, result: 'denied', errorCode: 'insufficient_scope' },
      }),
    ]);
  });

  it('an authentication failure: the reason and a fingerprint, never the token', async () => {
    const expired = await craftToken(stack.as, stack.mcpUrl, { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } });
    const { status, requestId } = await send(expired, call('echo', { text: 'x' }, 1), stateless('tools/call', 'echo'));
    expect(status).toBe(401);
    const [record] = recordsFor(requestId) as [AuditRecord];
    expect(record).toMatchObject({ event: 'authentication.failure', outcome: { status: 401, result: 'rejected', reason: 'expired' } });
    expect(record.presentedToken?.fingerprint).toHaveLength(12);
    expect(record.who).toBeUndefined();
    const missing = await mcpPost(stack.mcpUrl, call('echo', {}, 2), {});
    expect(recordsFor(missing.headers.get('x-request-id')!)[0]).toMatchObject({ outcome: { reason: 'missing_token' } });
  });

  it('a tool result with isError delivered over SSE', async () => {
    const token = await stack.obtainToken('tickets:read');
    const { status, requestId, text } = await send(token, call('fail_tool', {}, 'f-1'), stateless('tools/call', 'fail_tool'));
    expect(status).toBe(200);
    expect(text).toContain('event: message');
    expect(recordsFor(requestId)[0]).toMatchObject({ outcome: { status: 200, result: 'tool_error' } });
  });

  it('a JSON-RPC error from the upstream', async () => {
    const token = await stack.obtainToken('tickets:read');
    const read = { jsonrpc: '2.0', id: 'e-1', method: 'resources/read', params: { uri: 'tickets://T-404' } };
    const { requestId, text } = await send(token, read, stateless('resources/read', 'tickets://T-404'));
    const { error } = JSON.parse(text.split('data: ')[1]!) as { error: { code: number } };
    expect(recordsFor(requestId)[0]).toMatchObject({ outcome: { result: 'jsonrpc_error', errorCode: error.code } });
  });

  it('an upstream failure', async () => {
    const token = await stack.obtainToken('tickets:read');
    const port = Number(new URL(stack.upstream.url).port);
    await stack.upstream.close();
    const { status, requestId } = await send(token, call('echo', { text: 'x' }, 'u-1'), stateless('tools/call', 'echo'));
    expect(status).toBe(502);
    expect(recordsFor(requestId)[0]).toMatchObject({ decision: { effect: 'allow' }, outcome: { status: 502, result: 'upstream_failed', errorCode: 'upstream_unreachable' } });
    const { startDemoUpstream } = await import('../../src/demo/upstream-server.js');
    stack.upstream = await startDemoUpstream({ port, requiredCredential: { header: 'x-api-key', value: 'svc-key-for-tests-0123456789' } });
  });

  it('one record per message of a batch, and for bad input', async () => {
    const token = await stack.obtainToken('tickets:read');
    const batch = await send(token, [call('echo', { text: '1' }, 1), call('list_tickets', {}, 2), { jsonrpc: '2.0', method: 'notifications/initialized' }], {});
    expect(recordsFor(batch.requestId).map((record) => [record.what.method, record.decision?.effect])).toEqual([
      ['tools/call', 'allow'],
      ['tools/call', 'allow'],
      ['notifications/initialized', 'allow'],
    ]);
    const broken = await send(token, '{"jsonrpc":', {});
    expect(recordsFor(broken.requestId)).toEqual([expect.objectContaining({ event: 'request.rejected', outcome: { status: 400, result: 'rejected', errorCode: 'parse_error' } })]);
  });

  it('a step-up is recorded as a scope elevation correlated with the challenge', async () => {
    const provider = new HeadlessOAuthProvider('audit elevation client', false);
    const connected = await connectWithOAuth(stack.mcpUrl, { provider });
    await callWithStepUp(connected, () => connected.client.callTool({ name: 'create_ticket', arguments: { title: 'elevated' } }));
    await connected.client.close();
    const records = stack.auditRecords();
    const elevation = records.find((record) => record.event === 'scope.elevation' && record.who?.clientId === provider.clientInformation()?.client_id);
    expect(elevation).toBeDefined();
    const challenge = records.find((record) => record.eventId === elevation!.correlatesWith);
    expect(challenge).toMatchObject({ decision: { effect: 'deny', reason: 'insufficient_scope' }, outcome: { status: 403 } });
    expect(elevation!.elevation).toMatchObject({ previousScopes: ['tickets:read'], scopes: expect.arrayContaining(['tickets:read', 'tickets:write']) });
  });

  it('nothing the gateway writes contains a bearer token', async () => {
    const token = await stack.obtainToken('tickets:read');
    await send(token, call('echo', { text: token, authorization: `Bearer ${token}` }, 'leak'), stateless('tools/call', 'echo'));
    const everything = stack.auditOutput() + stack.logOutput();
    expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/);
  });

  it('every line of the trail is one JSON document, written as JSON.stringify would write it', () => {
    // By now the trail holds every kind of record the tests above caused (allow, deny,
    // authentication failure, elevation, upstream failure, batch, bad input).
    const lines = stack.auditOutput().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toBe(JSON.stringify(JSON.parse(line)));
  });
});

/** Sends an allowed call, a denied call and a malformed token through `target`; returns the metric deltas. */
async function countersMovedBy(target: Stack) {
  const scrape = async () => parsePrometheusText(await (await fetch(new URL('/metrics', target.mcpUrl))).text());
  const token = await target.obtainToken('tickets:read');
  const before = await scrape();
  const sendTo = (body: unknown, headers: Record<string, string>) => mcpPost(target.mcpUrl, body, { ...bearer(token), ...headers }).then((response) => response.text());
  await sendTo(call('echo', { text: 'x' }, 1), stateless('tools/call', 'echo'));
  await sendTo(call('create_ticket', { title: 'x' }, 2), stateless('tools/call', 'create_ticket'));
  await mcpPost(target.mcpUrl, call('echo', {}, 3), { authorization: 'Bearer not-a-jwt' }).then((response) => response.text());
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
  expect(delta('mcp_gateway_messages_total', { method: 'tools/call', decision: 'allow', status: '200' })).toBe(1);
  expect(delta('mcp_gateway_messages_total', { method: 'tools/call', decision: 'deny', status: '403' })).toBe(1);
  expect(delta('mcp_gateway_messages_total', { method: 'none', decision: 'none', status: '401' })).toBe(1);
  expect(delta('mcp_gateway_http_requests_total', { http_method: 'POST', status: '401' })).toBe(1);
  expect(delta('mcp_gateway_token_validation_failures_total', { reason: 'malformed' })).toBe(1);
  expect(delta('mcp_gateway_request_duration_seconds_count', { method: 'tools/call' })).toBe(2);
  expect(delta('mcp_gateway_upstream_response_seconds_count', {})).toBe(1);
  return { before, after };
}

describe('metrics', () => {
  it('/metrics is Prometheus text and the counters move as requests flow', async () => {
    const { after } = await countersMovedBy(stack);
    expect(sampleValue(after, 'mcp_gateway_policy_info', { version: stack.gateway.policies.current.version, policy_error: '0' })).toBe(1);
    expect(sampleValue(after, 'mcp_gateway_jwks_refreshes_total', { result: 'success' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'mcp_gateway_audit_records_total')).toBeGreaterThan(0);
  });

  it('with audit off, no record is built or written, and the counters move the same', async () => {
    const quiet = await startStack({ policyDirectory: policies.directory, config: (config) => ({ ...config, audit: { enabled: false } }) });
    try {
      const { after } = await countersMovedBy(quiet);
      expect(quiet.gateway.audit).toBeUndefined();
      expect(quiet.auditRecords()).toEqual([]);
      expect(sampleValue(after, 'mcp_gateway_audit_records_total')).toBe(0);
    } finally {
      await quiet.close();
    }
  });

  it('counts open SSE streams', async () => {
    const token = await stack.obtainToken('tickets:read');
    const pending = mcpPost(stack.mcpUrl, call('slow_progress', { steps: 5, intervalMs: 100 }, 's'), { ...bearer(token), ...stateless('tools/call', 'slow_progress') });
    const response = await pending;
    const during = sampleValue(parsePrometheusText(await (await fetch(new URL('/metrics', stack.mcpUrl))).text()), 'mcp_gateway_open_sse_streams');
    await response.text();
    const after = sampleValue(parsePrometheusText(await (await fetch(new URL('/metrics', stack.mcpUrl))).text()), 'mcp_gateway_open_sse_streams');
    expect(during).toBe(1);
    expect(after).toBe(0);
  });
});

describe('tracing', () => {
  it('continues the client trace, sends its own traceparent upstream and exports spans', async () => {
    const token = await stack.obtainToken('tickets:read');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    const { requestId } = await send(token, call('echo', { text: 't' }, 't-1'), { ...stateless('tools/call', 'echo'), traceparent: `00-${traceId}-${clientSpan}-01` });
    const upstreamTraceparent = stack.upstream.seen.at(-1)!.headers.traceparent as string;
    expect(upstreamTraceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(upstreamTraceparent).not.toContain(clientSpan);
    expect(recordsFor(requestId)[0]!.traceId).toBe(traceId);
    expect(stack.upstream.seen.at(-1)!.headers['x-request-id']).toBe(requestId);

    await new Promise((resolve) => setTimeout(resolve, 1300));
    const spans = collector.spans.filter((span) => span.traceId === traceId);
    const byName = Object.fromEntries(spans.map((span) => [span.name, span]));
    expect(Object.keys(byName).sort()).toEqual(['mcp.authenticate', 'mcp.authorize', 'mcp.request', 'mcp.upstream']);
    expect(byName['mcp.request']!.parentSpanId).toBe(clientSpan);
    expect(byName['mcp.upstream']!.parentSpanId).toBe(byName['mcp.request']!.spanId);
    expect(byName['mcp.upstream']!.spanId).toBe(upstreamTraceparent.split('-')[2]);
    expect(byName['mcp.request']!.kind).toBe(2);
  });
});
