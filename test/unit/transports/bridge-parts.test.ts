/** The bridge's pure parts: backoff, stream choice for upstream messages, the resumption store, stdout framing, the child's environment. */
import { describe, expect, it } from 'vitest';
import { computeBackoffMs } from '../../../src/transports/bridge/backoff.js';
import { BoundedEventStore } from '../../../src/transports/bridge/event-store.js';
import { findRelatedRequest, trackRequest, type InFlightRequest } from '../../../src/transports/bridge/message-routing.js';
import type { Message } from '../../../src/transports/bridge/messages.js';
import { buildChildEnvironment, LineReader, LineTooLongError } from '../../../src/transports/stdio/index.js';

describe('computeBackoffMs', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [6, 16000],
    [7, 30000],
    [50, 30000],
  ])('attempt %i waits %i ms (500 ms doubling, capped at 30 s)', (attempt, expected) => {
    expect(computeBackoffMs(attempt, { initialDelayMs: 500, maxDelayMs: 30_000 })).toBe(expected);
  });
});

describe('findRelatedRequest', () => {
  const request = (id: number, progressToken?: string): Message =>
    ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't', ...(progressToken ? { _meta: { progressToken } } : {}) } }) as Message;
  const notification = (method: string, params: Record<string, unknown> = {}): Message => ({ jsonrpc: '2.0', method, params }) as Message;
  const inFlight = (...requests: Message[]) => {
    const map = new Map<string, InFlightRequest>();
    for (const message of requests) trackRequest(message, map);
    return map;
  };

  it('sends progress to the request that asked for it, even among several', () => {
    expect(findRelatedRequest(notification('notifications/progress', { progressToken: 'b' }), inFlight(request(1, 'a'), request(2, 'b')))).toBe(2);
    expect(findRelatedRequest(notification('notifications/progress', { progressToken: 'zzz' }), inFlight(request(1, 'a')))).toBeUndefined();
  });

  it('sends log messages and server requests to the one request in flight', () => {
    const sampling = { jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: {} } as Message;
    expect(findRelatedRequest(notification('notifications/message'), inFlight(request(1)))).toBe(1);
    expect(findRelatedRequest(sampling, inFlight(request(1)))).toBe(1);
  });

  it('uses the GET stream when it cannot tell (none or several in flight) and for session-wide notifications', () => {
    expect(findRelatedRequest(notification('notifications/message'), inFlight())).toBeUndefined();
    expect(findRelatedRequest(notification('notifications/message'), inFlight(request(1), request(2)))).toBeUndefined();
    expect(findRelatedRequest(notification('notifications/tools/list_changed'), inFlight(request(1)))).toBeUndefined();
    expect(findRelatedRequest(notification('notifications/resources/updated', { uri: 'x' }), inFlight(request(1)))).toBeUndefined();
  });

  it('tracks requests only (not notifications or responses), keeping 1 and "1" apart', () => {
    const map = inFlight(request(1), { jsonrpc: '2.0', id: '1', method: 'ping' } as Message, notification('notifications/initialized'), { jsonrpc: '2.0', id: 5, result: {} } as Message);
    expect([...map.values()].map((entry) => entry.id)).toEqual([1, '1']);
  });
});

describe('BoundedEventStore', () => {
  const message = (n: number) => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } }) as Message;
  const replay = async (store: BoundedEventStore, after: string) => {
    const sent: Array<[string, Message]> = [];
    const streamId = await store.replayEventsAfter(after, { send: async (id, sentMessage) => void sent.push([id, sentMessage]) });
    return { streamId, sent };
  };

  it('replays what followed an event on the same stream only, skipping priming events', async () => {
    const store = new BoundedEventStore({ maxEvents: 100, maxBytes: 1 << 20 });
    const primer = await store.storeEvent('a', {} as Message);
    await store.storeEvent('a', message(1));
    await store.storeEvent('b', message(2));
    await store.storeEvent('a', message(3));
    const { streamId, sent } = await replay(store, primer);
    expect(streamId).toBe('a');
    expect(sent.map(([, sentMessage]) => (sentMessage as unknown as { params: { n: number } }).params.n)).toEqual([1, 3]);
    expect(await store.getStreamIdForEventId(primer)).toBe('a');
  });

  it('forgets the oldest events beyond its bounds', async () => {
    const store = new BoundedEventStore({ maxEvents: 3, maxBytes: 1 << 20 });
    const first = await store.storeEvent('a', message(0));
    for (let n = 1; n <= 5; n += 1) await store.storeEvent('a', message(n));
    expect((await replay(store, first)).sent).toHaveLength(3);

    const small = new BoundedEventStore({ maxEvents: 100, maxBytes: 200 });
    const start = await small.storeEvent('a', message(0));
    for (let n = 1; n <= 20; n += 1) await small.storeEvent('a', message(n));
    const { sent } = await replay(small, start);
    expect(sent.length).toBeLessThan(5);
    expect((sent.at(-1)![1] as unknown as { params: { n: number } }).params.n).toBe(20);
  });
});

describe('LineReader', () => {
  it('frames messages across chunk boundaries and CRLF', () => {
    const reader = new LineReader(1024);
    expect(reader.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(reader.push(Buffer.from(':2}\r\n\n{"c":3}'))).toEqual(['{"b":2}', '']);
    expect(reader.flush()).toBe('{"c":3}');
    expect(reader.flush()).toBeUndefined();
  });

  it('refuses a line longer than its limit instead of buffering it', () => {
    const reader = new LineReader(16);
    expect(() => reader.push(Buffer.from('x'.repeat(10)))).not.toThrow();
    expect(() => reader.push(Buffer.from('x'.repeat(10)))).toThrow(LineTooLongError);
    expect(() => new LineReader(16).push(Buffer.from(`${'y'.repeat(20)}\n`))).toThrow(LineTooLongError);
  });
});

describe('buildChildEnvironment', () => {
  const gateway = { PATH: '/usr/bin', HOME: '/home/gw', UPSTREAM_SERVICE_TOKEN: 'gateway-secret', AWS_SECRET_ACCESS_KEY: 'cloud-secret' };

  it('holds only the inherited names, the configured variables and the shared secret', () => {
    const env = buildChildEnvironment({ inheritEnv: ['PATH', 'HOME', 'LANG'], env: { API_MODE: 'readonly' }, sharedSecret: { env: 'MCP_SECRET', value: 's3cr3t' } }, gateway);
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/gw', API_MODE: 'readonly', MCP_SECRET: 's3cr3t' });
  });

  it('lets a configured variable override an inherited one, and inherits nothing when told so', () => {
    expect(buildChildEnvironment({ inheritEnv: ['PATH'], env: { PATH: '/opt/bin' }, sharedSecret: undefined }, gateway)).toEqual({ PATH: '/opt/bin' });
    expect(buildChildEnvironment({ inheritEnv: [], env: {}, sharedSecret: undefined }, gateway)).toEqual({});
  });
});
