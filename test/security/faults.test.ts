/**
 * Faults around the gateway: the authorization server's JWKS down (at start
 * and later) or slower than the timeout, the upstream down, slow, or resetting
 * mid-stream, the client going away mid-stream, the authorization server down
 * during a token exchange. For each: the right status (401 never 500 for key
 * trouble, 502/503/504 for upstream trouble), an audit record saying what
 * happened, no token in any output, and a valid request served afterwards.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/index.js';
import type { GatewayConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import { bearer, INITIALIZE, mcpPost } from '../helpers/mcp-requests.js';
import { findFreePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { craftToken } from '../helpers/tokens.js';
import { GATEWAY_CLIENT, upstreamAuthStack } from '../helpers/upstream-auth.js';
import { startFaultyProxy, type FaultyProxy } from './fixtures/faulty-proxy.js';
import { startHostileUpstream, type HostileUpstream } from './fixtures/hostile-upstream.js';
import { auditRecordsFor, expectNoSecretInOutputs, expectStillServes, PING, sleep, STATELESS_PING_HEADERS, statelessHeaders } from './support.js';

let stack: Stack;
let hostile: HostileUpstream;
let token: string;
const started: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  hostile = await startHostileUpstream();
  stack = await startStack({
    config: (config) => ({ ...config, upstream: { ...config.upstream, url: hostile.url, responseTimeoutMs: 500 } }),
  });
  token = await stack.obtainToken();
});
afterAll(async () => {
  for (const part of started.reverse()) await part.close();
  await stack?.close();
  await hostile?.close();
});

/**
 * Another gateway for the same resource, AS and upstream (a replica), with
 * its config changed as asked: its own log and audit capture, shaped like a
 * Stack so the shared checks apply.
 */
async function startReplica(change: (config: GatewayConfig) => GatewayConfig, { waitForKeys = true } = {}): Promise<Stack & { gateway: Gateway }> {
  const port = await findFreePort();
  const config = change({ ...stack.config, listen: { ...stack.config.listen, port } });
  let logText = '';
  let auditText = '';
  const gateway = await createGateway(config, {
    logger: createLogger('debug', new Writable({ write: (chunk, _encoding, callback) => ((logText += String(chunk)), callback()) })),
    auditSink: { type: 'stream', write: (line) => (auditText += line) },
  });
  await gateway.start();
  if (waitForKeys) await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));
  started.push({ close: () => gateway.stop() });
  return {
    ...stack,
    gateway,
    config,
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    logOutput: () => logText,
    auditOutput: () => auditText,
    auditRecords: () => auditText.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord),
  };
}

const withJwks = (jwksUri: string) => (config: GatewayConfig): GatewayConfig => ({
  ...config,
  authorizationServers: config.authorizationServers.map((server) => ({ ...server, jwksUri, metadataTimeoutMs: 300, jwksCooldownSeconds: 1 })),
});

async function ping(target: Stack, withToken: string): Promise<{ response: Response; text: string; ms: number }> {
  const startedAt = Date.now();
  const response = await mcpPost(target.mcpUrl, PING, { ...bearer(withToken), ...STATELESS_PING_HEADERS });
  return { response, text: await response.text(), ms: Date.now() - startedAt };
}

async function readiness(target: Stack): Promise<number> {
  const response = await fetch(new URL('/readyz', target.mcpUrl));
  await response.text();
  return response.status;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

describe('the JWKS of the authorization server', () => {
  let proxy: FaultyProxy;
  beforeAll(async () => {
    proxy = await startFaultyProxy(stack.as.jwksUri, { slowMs: 2000 });
    started.push(proxy);
  });

  it('down at start: not ready, valid tokens get a 401 (keys_unavailable), never a 500; ready once it answers', async () => {
    proxy.mode = 'down';
    const replica = await startReplica(withJwks(proxy.url), { waitForKeys: false });
    expect(await readiness(replica)).toBe(503);
    const { response, text } = await ping(replica, token);
    expect(response.status, text).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(auditRecordsFor(replica, response)).toEqual([expect.objectContaining({ event: 'authentication.failure', outcome: expect.objectContaining({ status: 401, reason: 'keys_unavailable' }) })]);
    expect(replica.logOutput()).toMatch(/cannot load authorization server keys; not ready/);

    proxy.mode = 'up';
    await waitFor(async () => (await readiness(replica)) === 200, 5000);
    await expectStillServes(replica, token);
    expectNoSecretInOutputs(replica, [token]);
  });

  it('down later: known keys keep working; a new kid gets a fast 401, never a 500; it works once the JWKS is back', async () => {
    proxy.mode = 'up';
    const replica = await startReplica(withJwks(proxy.url));
    await expectStillServes(replica, token);
    proxy.mode = 'down';
    await sleep(1050); // past jose's cooldown after the start-up fetch, so an unknown kid makes it fetch
    // A token signed with the current key: the cached key verifies it (and an uncached token of it too).
    const fresh = await craftToken(stack.as, stack.mcpUrl);
    expect((await ping(replica, fresh)).response.status).toBe(200);

    await stack.as.rotateSigningKey();
    const rotated = await craftToken(stack.as, stack.mcpUrl);
    const first = await ping(replica, rotated);
    expect(first.response.status, first.text).toBe(401);
    expect(auditRecordsFor(replica, first.response)[0]).toMatchObject({ event: 'authentication.failure', outcome: { reason: expect.stringMatching(/^(keys_unavailable|unknown_key)$/) } });
    // While the JWKS stays down, more unknown kids are refused at once (failure cooldown), not after a fetch each.
    const second = await ping(replica, await craftToken(stack.as, stack.mcpUrl));
    expect(second.response.status).toBe(401);
    expect(second.ms).toBeLessThan(250);
    await expectStillServes(replica, token);

    proxy.mode = 'up';
    await sleep(1100); // the 1 s cooldown for unknown kids
    expect((await ping(replica, rotated)).response.status).toBe(200);
    expectNoSecretInOutputs(replica, [token, fresh, rotated]);
  });

  it('a burst of tokens with unknown kids costs at most one JWKS fetch per cooldown (no refetch storm)', async () => {
    proxy.mode = 'up';
    const replica = await startReplica(withJwks(proxy.url));
    await sleep(1050); // past jose's cooldown after the start-up fetch
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await Promise.all(Array.from({ length: 30 }, (_, index) => craftToken(stack.as, stack.mcpUrl, { key: privateKey, header: { kid: `unknown-${index}` } })));
    const hits = proxy.hits;
    const responses = await Promise.all(forged.map(async (forgedToken) => (await ping(replica, forgedToken)).response.status));
    expect(new Set(responses)).toEqual(new Set([401]));
    expect(proxy.hits - hits).toBeLessThanOrEqual(1);
    await expectStillServes(replica, token);
    expectNoSecretInOutputs(replica, [token, ...forged]);
  });

  it('answering 503: a new kid gets a 401, the gateway keeps serving', async () => {
    proxy.mode = 'up';
    const replica = await startReplica(withJwks(proxy.url));
    proxy.mode = 'error';
    await sleep(1050); // past jose's cooldown after the start-up fetch
    await stack.as.rotateSigningKey();
    const rotated = await craftToken(stack.as, stack.mcpUrl);
    const { response } = await ping(replica, rotated);
    expect(response.status).toBe(401);
    expect(auditRecordsFor(replica, response)[0]).toMatchObject({ outcome: { reason: 'keys_unavailable' } });
    await expectStillServes(replica, token);
    expectNoSecretInOutputs(replica, [token, rotated]);
  });

  it('slower than metadataTimeoutMs: a new kid gets a 401 in about the timeout, not after the JWKS finally answers', async () => {
    proxy.mode = 'up';
    const replica = await startReplica(withJwks(proxy.url));
    proxy.mode = 'slow';
    await sleep(1050); // past jose's cooldown after the start-up fetch
    await stack.as.rotateSigningKey();
    const rotated = await craftToken(stack.as, stack.mcpUrl);
    const hits = proxy.hits;
    const { response, ms } = await ping(replica, rotated);
    expect(proxy.hits).toBe(hits + 1);
    expect(response.status).toBe(401);
    expect(ms).toBeLessThan(1500);
    expect(auditRecordsFor(replica, response)[0]).toMatchObject({ outcome: { reason: 'keys_unavailable' } });
    await expectStillServes(replica, token);
    expectNoSecretInOutputs(replica, [token, rotated]);
    proxy.mode = 'up';
  });
});

describe('token introspection (RFC 7662)', () => {
  /** An introspection endpoint that misbehaves as asked: refuses, errors, resets, or never answers. */
  let mode: 'error' | 'reset' | 'hang' = 'error';
  let endpoint: { url: string; issuer: string; close(): Promise<void> };
  beforeAll(async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      if (mode === 'error') res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      else if (mode === 'reset') req.socket.destroy();
      // 'hang': never answer.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    endpoint = {
      url: `http://127.0.0.1:${port}/introspect`,
      issuer: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
    started.push(endpoint);
  });

  const withIntrospection = (config: GatewayConfig): GatewayConfig => ({
    ...config,
    authorizationServers: [
      ...config.authorizationServers,
      {
        ...config.authorizationServers[0]!,
        issuer: endpoint.issuer,
        jwksUri: undefined,
        introspection: {
          endpoint: endpoint.url,
          clientId: 'gateway',
          clientSecret: 'introspection-client-secret-value',
          clientAuthentication: 'client_secret_basic',
          introspectJwts: true,
          timeoutMs: 300,
          cacheMaxSeconds: 60,
          inactiveCacheSeconds: 5,
          allowMissingAudience: false,
          failureCooldownMs: 0,
          maxConcurrentRequests: 8,
        },
      } as GatewayConfig['authorizationServers'][number],
    ],
  });

  it.each([
    ['answers 500', 'error'],
    ['resets the connection', 'reset'],
    ['is slower than its timeout', 'hang'],
  ] as const)('the endpoint %s: an opaque token gets a fast 503 (fail closed, never a 500 or a hang), audited; JWTs unaffected', async (_name, failure) => {
    mode = failure;
    const replica = await startReplica(withIntrospection, { waitForKeys: false });
    await stack.gateway.verifier.issuers[0]!.whenReady();
    const opaque = 'opaque-access-token-0123456789abcdef';
    const { response, text, ms } = await ping(replica, opaque);
    expect(response.status, text).toBe(503);
    expect(ms).toBeLessThan(3000);
    expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32603 } });
    expect(auditRecordsFor(replica, response)).toEqual([
      expect.objectContaining({ event: 'authentication.failure', outcome: expect.objectContaining({ status: 503, reason: 'introspection_unavailable' }) }),
    ]);
    // The trusted AS's JWTs are verified with its keys, whatever the other issuer's endpoint does.
    await waitFor(async () => (await ping(replica, token)).response.status === 200, 5000);
    expectNoSecretInOutputs(replica, [opaque, token, 'introspection-client-secret-value']);
  });
});

describe('the upstream', () => {
  const call = (id: number, name = 'echo') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { text: 'x' } } });

  it('down: 502 with a JSON-RPC error echoing the id, audited upstream_failed', async () => {
    const closedPort = await findFreePort();
    const replica = await startReplica((config) => ({ ...config, upstream: { ...config.upstream, url: `http://127.0.0.1:${closedPort}/mcp` } }));
    const response = await mcpPost(replica.mcpUrl, call(21), { ...bearer(token), ...statelessHeaders('tools/call', 'echo') });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 21, error: { code: -32603 } });
    expect(auditRecordsFor(replica, response)).toEqual([expect.objectContaining({ outcome: { status: 502, result: 'upstream_failed', errorCode: 'upstream_unreachable' } })]);
    expectNoSecretInOutputs(replica, [token]);
    // The health endpoints still answer; the same gateway serves once an upstream answers.
    expect((await fetch(new URL('/healthz', replica.mcpUrl))).status).toBe(200);
  });

  it('slow (no response headers within responseTimeoutMs): 504, audited, and the upstream request is abandoned', async () => {
    hostile.handler = () => undefined; // never answers
    const abortedBefore = hostile.aborted;
    const startedAt = Date.now();
    const response = await mcpPost(stack.mcpUrl, call(22), { ...bearer(token), ...statelessHeaders('tools/call', 'echo') });
    expect(response.status).toBe(504);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(await response.json()).toMatchObject({ id: 22, error: { code: -32603 } });
    expect(auditRecordsFor(stack, response)).toEqual([expect.objectContaining({ outcome: { status: 504, result: 'upstream_failed', errorCode: 'upstream_timeout' } })]);
    await waitFor(() => hostile.aborted > abortedBefore, 2000);
    hostile.handler = undefined;
    await expectStillServes(stack, token);
    expectNoSecretInOutputs(stack, [token]);
  });

  it.each([
    ['an SSE stream', 'text/event-stream', 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\ndata: {"jsonrpc":"2.0","id":23,"res'],
    ['a JSON body with a Content-Length', 'application/json', '{"jsonrpc":"2.0","id":23,"result":{"content":[{"type":"text","text":"par'],
  ])('reset mid-stream (%s): the client stream is cut, audited upstream_failed, the gateway serves on', async (_name, contentType, partial) => {
    hostile.handler = (_request, res) => {
      res.writeHead(200, { 'content-type': contentType, ...(contentType === 'application/json' ? { 'content-length': '500' } : {}) });
      res.write(partial);
      setTimeout(() => res.socket?.destroy(), 30);
    };
    const response = await mcpPost(stack.mcpUrl, call(23), { ...bearer(token), ...statelessHeaders('tools/call', 'echo') });
    expect(response.status).toBe(200);
    const outcome = await response.text().then(
      (text) => ({ cut: false, text }),
      () => ({ cut: true, text: '' }),
    );
    expect(outcome.cut).toBe(true);
    await sleep(20);
    expect(auditRecordsFor(stack, response)).toEqual([expect.objectContaining({ outcome: expect.objectContaining({ status: 200, result: 'upstream_failed' }) })]);
    hostile.handler = undefined;
    await expectStillServes(stack, token);
    expectNoSecretInOutputs(stack, [token]);
  });
});

describe('the client going away', () => {
  it('mid-stream: the upstream request is aborted and the audit record says client_closed', async () => {
    let upstreamClosed = false;
    hostile.handler = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      let step = 0;
      const timer = setInterval(() => {
        step += 1;
        res.write(`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":${step}}}\n\n`);
        if (step === 200) {
          clearInterval(timer);
          res.end();
        }
      }, 25);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed = !res.writableFinished;
      });
    };
    const response = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 31, method: 'tools/call', params: { name: 'slow', arguments: {} } }, {
      ...bearer(token),
      ...statelessHeaders('tools/call', 'slow'),
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('notifications/progress');
    await reader.cancel();
    await waitFor(() => upstreamClosed, 2000);
    await waitFor(() => auditRecordsFor(stack, response).length > 0, 2000);
    expect(auditRecordsFor(stack, response)).toEqual([expect.objectContaining({ what: expect.objectContaining({ method: 'tools/call' }), outcome: expect.objectContaining({ status: 200, result: 'client_closed' }) })]);
    hostile.handler = undefined;
    await expectStillServes(stack, token);
    expectNoSecretInOutputs(stack, [token]);
  });

  it('before the upstream answered: the upstream request is abandoned too, and the gateway serves on', async () => {
    let upstreamClosed = false;
    hostile.handler = (_request, res) => {
      res.on('close', () => (upstreamClosed = true));
      // Answers only after the client is gone.
    };
    // The client's socket goes away while the gateway waits for the upstream's headers.
    const body = JSON.stringify({ jsonrpc: '2.0', id: 33, method: 'ping' });
    const socket = connect(Number(new URL(stack.mcpUrl).port), '127.0.0.1');
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: ping\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await waitFor(() => hostile.seen.some((request) => (request.body as { id?: unknown } | undefined)?.id === 33), 2000);
    socket.destroy();
    await waitFor(() => upstreamClosed, 2000);
    hostile.handler = undefined;
    await waitFor(() => stack.auditRecords().some((record) => record.what.jsonrpcId === 33), 2000);
    expect(stack.auditRecords().find((record) => record.what.jsonrpcId === 33)).toMatchObject({ outcome: { result: 'client_closed' } });
    await expectStillServes(stack, token);
    expectNoSecretInOutputs(stack, [token]);
  });
});

describe('the authorization server during a token exchange', () => {
  let exchangeStack: Stack;
  beforeAll(async () => {
    exchangeStack = await startStack(
      upstreamAuthStack({
        credential: ({ issuer, upstreamUrl }) => ({
          type: 'token_exchange',
          issuer,
          clientId: GATEWAY_CLIENT.client_id,
          clientSecret: GATEWAY_CLIENT.client_secret,
          resource: upstreamUrl,
          failureCooldownMs: 100,
        }),
      }),
    );
  });
  afterAll(async () => exchangeStack?.close());

  it('down: 503 upstream_credential_unavailable, audited, nothing forwarded, no token anywhere; works again when it is back', async () => {
    const echo = { jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'echo', arguments: { text: 'exchanged' } } };
    const headers = statelessHeaders('tools/call', 'echo');
    const userToken = await exchangeStack.obtainToken('tickets:read');
    // Verified once while the AS is up, so its keys are known.
    const warm = await mcpPost(exchangeStack.mcpUrl, INITIALIZE, bearer(userToken));
    await warm.text();

    const otherUser = await exchangeStack.obtainToken('tickets:read');
    await exchangeStack.as.suspend();
    try {
      const before = exchangeStack.upstream.seen.length;
      const response = await mcpPost(exchangeStack.mcpUrl, echo, { ...bearer(otherUser), ...headers });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ id: 41, error: { code: -32603 } });
      expect(exchangeStack.upstream.seen.length).toBe(before);
      expect(auditRecordsFor(exchangeStack, response)).toEqual([
        expect.objectContaining({ outcome: { status: 503, result: 'upstream_failed', errorCode: 'upstream_credential_unavailable' } }),
      ]);
    } finally {
      await exchangeStack.as.resume();
    }
    await sleep(150); // failureCooldownMs
    const response = await mcpPost(exchangeStack.mcpUrl, echo, { ...bearer(otherUser), ...headers });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('exchanged');
    expectNoSecretInOutputs(exchangeStack, [userToken, otherUser]);
  });
});
