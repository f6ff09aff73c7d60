/**
 * UpstreamLink with scripted connections (the real child process and SSE
 * connections are exercised by the integration tests): reconnect with
 * backoff, handshake replay, the queue, giving up, and answers for what
 * could not be delivered.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/index.js';
import type { ConnectionHandlers, UpstreamConnection } from '../../../src/transports/bridge/connection.js';
import type { Message } from '../../../src/transports/bridge/messages.js';
import { UpstreamLink } from '../../../src/transports/bridge/upstream-link.js';

/** A fake upstream: answers initialize and echoes tools/call; records what it received. */
class FakeUpstream {
  connections: Array<{ received: Message[]; handlers: ConnectionHandlers; closed: boolean }> = [];
  failNextConnects = 0;

  connect = async (handlers: ConnectionHandlers): Promise<UpstreamConnection> => {
    if (this.failNextConnects > 0) {
      this.failNextConnects -= 1;
      throw new GatewayError('upstream_unreachable', { detail: 'scripted failure' });
    }
    const connection = { received: [] as Message[], handlers, closed: false };
    this.connections.push(connection);
    return {
      send: async (message) => {
        if (connection.closed) throw new Error('gone');
        connection.received.push(message);
        const { id, method } = message as { id?: string | number; method?: string };
        if (id === undefined || method === undefined) return;
        const result = method === 'initialize' ? { protocolVersion: '2025-11-25', capabilities: {} } : { echoed: method };
        queueMicrotask(() => handlers.onmessage({ jsonrpc: '2.0', id, result } as Message));
      },
      close: async () => {
        connection.closed = true;
      },
    };
  };

  /** The current connection ends by itself (the process crashed). */
  crash(): void {
    const current = this.connections.at(-1)!;
    current.closed = true;
    current.handlers.onclose('the upstream process exited with code 3');
  }

  methods(index: number): string[] {
    return this.connections[index]!.received.map((message) => (message as { method?: string }).method ?? 'response');
  }
}

function createLink(upstream: FakeUpstream, maxAttempts: number | undefined = 3) {
  const link = new UpstreamLink({
    connect: upstream.connect,
    restart: { initialDelayMs: 5, maxDelayMs: 40, maxAttempts },
    initializeTimeoutMs: 1000,
    maxQueuedMessages: 2,
    logger: silentLogger,
  });
  const received: Message[] = [];
  const events: string[] = [];
  link.onmessage = (message) => received.push(message);
  link.ondisconnect = (reason) => events.push(`disconnect: ${reason}`);
  link.onclosed = (reason) => events.push(`closed: ${reason}`);
  return { link, received, events };
}

const until = async (condition: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } }) as Message;

describe('UpstreamLink', () => {
  it('after a crash, reconnects, replays initialize, initialized and the session state, then sends what waited', async () => {
    const upstream = new FakeUpstream();
    const { link, received, events } = createLink(upstream);
    await link.open();
    link.setHandshake({ protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } });
    link.replayState = () => [{ jsonrpc: '2.0', method: 'logging/setLevel', params: { level: 'debug' } } as Message];
    link.send(call(1));
    await until(() => received.length === 1);

    upstream.crash();
    expect(events).toEqual(['disconnect: the upstream process exited with code 3']);
    link.send(call(2));
    await until(() => received.length === 2);

    expect(upstream.connections).toHaveLength(2);
    expect(upstream.methods(1)).toEqual(['initialize', 'notifications/initialized', 'logging/setLevel', 'tools/call']);
    const replayedInit = upstream.connections[1]!.received[0] as { id: string; params: unknown };
    expect(replayedInit.params).toEqual({ protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } });
    // The link's own requests carry ids no client could have chosen, and their answers are not passed on.
    expect(replayedInit.id).toMatch(/^mcp-auth-gateway:[0-9a-f-]{36}:\d+$/);
    expect(received.map((message) => (message as { id: unknown }).id)).toEqual([1, 2]);
    await link.close();
  });

  it('backs off between failed attempts and gives up after maxAttempts', async () => {
    const upstream = new FakeUpstream();
    const { link, events } = createLink(upstream, 2);
    await link.open();
    link.setHandshake({});
    upstream.failNextConnects = 10;
    const crashedAt = Date.now();
    upstream.crash();
    await until(() => events.some((event) => event.startsWith('closed')));
    // 5 ms, then 10 ms: the two attempts, then the third failure gives up.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(15);
    expect(events.at(-1)).toBe('closed: gave up after 2 failed restarts');
    expect(link.state).toBe('closed');
    expect(upstream.failNextConnects).toBe(8);
  });

  it('answers a request it cannot deliver with a JSON-RPC error, and bounds the queue', async () => {
    const upstream = new FakeUpstream();
    const { link, received } = createLink(upstream, undefined);
    upstream.failNextConnects = 1;
    // start() connects in the background; the first attempt fails and whoever waited is answered.
    link.send(call(1));
    await until(() => received.length === 1);
    expect(received[0]).toMatchObject({ id: 1, error: { code: -32603 } });
    // While it waits to retry, the queue holds two messages; a third is refused at once.
    link.send(call(2));
    link.send(call(3));
    link.send(call(4));
    await until(() => received.length === 4);
    expect(received.slice(1).map((message) => ('error' in message ? `error ${String((message as { id: unknown }).id)}` : `ok ${String((message as { id: unknown }).id)}`))).toEqual(['error 4', 'ok 2', 'ok 3']);
    await link.close();
    link.send(call(5));
    await until(() => received.length === 5);
    expect(received[4]).toMatchObject({ id: 5, error: { code: -32603 } });
  });

  it('reports a first connection that fails (nothing is retried for open())', async () => {
    const upstream = new FakeUpstream();
    upstream.failNextConnects = 1;
    const { link } = createLink(upstream);
    await expect(link.open()).rejects.toMatchObject({ code: 'upstream_unreachable' });
    expect(upstream.connections).toHaveLength(0);
  });
});
