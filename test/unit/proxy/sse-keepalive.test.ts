import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createParser } from 'eventsource-parser';
import { describe, expect, it, vi } from 'vitest';
import { SseKeepAlive, streamResponse, type SseKeepAliveOptions } from '../../../src/proxy/index.js';

/** An upstream body piped into a client stream, watched by a keep-alive as the forwarder sets it up. */
function watchedStream(options: SseKeepAliveOptions = { keepAliveMs: 60, idleTimeoutMs: 0 }) {
  const input = new PassThrough();
  const client = new PassThrough();
  const output = { text: '' };
  client.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  new SseKeepAlive(options, { input, output: input, client });
  input.pipe(client);
  return { input, client, output };
}

/** Writes the parts with a pause after each (long enough for keep-alives), returns what the client got. */
async function run(parts: string[], pauseMs: number): Promise<string> {
  const { input, client, output } = watchedStream();
  for (const part of parts) {
    input.write(part);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  input.end();
  await once(client, 'end');
  return output.text;
}

/** The events as the SDK client's SSE parser dispatches them. */
function events(text: string): string[] {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  parser.feed(text);
  return data;
}

describe('SseKeepAlive', () => {
  it('sends keep-alive comments on a quiet stream', async () => {
    expect(await run(['data: 1\n\n'], 200)).toMatch(/^data: 1\n\n(: keep-alive\n)+$/);
  });

  it.each([
    ['between two data lines of one event (LF)', ['event: message\ndata: {"a":\n', 'data: 1}\n\n'], ['{"a":\n1}']],
    ['between the CR and the LF of a CRLF pair', ['data: x\r', '\ndata: y\r\n\r\n'], ['x\ny']],
  ])('never ends an event early: a pause %s keeps it whole', async (_name, parts, expected) => {
    const output = await run(parts, 200);
    expect(output).toContain(': keep-alive');
    expect(events(output)).toEqual(expected);
  });

  it('shares one timer among streams with the same options, and stops it when the last one ends', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval');
    try {
      const streams = Array.from({ length: 50 }, () => watchedStream());
      expect(setIntervalSpy).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Every stream got its keep-alives from the one timer.
      for (const { output } of streams) expect(output.text).toContain(': keep-alive\n');
      streams.slice(1).forEach(({ client }) => client.destroy());
      await new Promise((resolve) => setImmediate(resolve));
      expect(clearIntervalSpy).not.toHaveBeenCalled();
      streams[0]!.input.end();
      await once(streams[0]!.client, 'end');
      expect(clearIntervalSpy).toHaveBeenCalledTimes(1);
    } finally {
      setIntervalSpy.mockRestore();
      clearIntervalSpy.mockRestore();
    }
  });

  it('ends a stream whose upstream stays silent past the idle timeout, through the forwarder\'s pipe', async () => {
    const input = new PassThrough();
    const client = new PassThrough();
    client.resume();
    const done = streamResponse(input, { transforms: [], sse: { keepAliveMs: 0, idleTimeoutMs: 120 } }, client);
    input.write('data: 1\n\n');
    const started = Date.now();
    await expect(done).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(input.destroyed).toBe(true);
  });

  it('puts comments after what the last transform let through, not after the raw input', async () => {
    const input = new PassThrough();
    // A stage that holds back everything after the last LF, as the list filter holds a partial event.
    const holdPartialLine = new PassThrough();
    const client = new PassThrough();
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const done = streamResponse(input, { transforms: [holdPartialLine], sse: { keepAliveMs: 60, idleTimeoutMs: 0 } }, client);
    holdPartialLine.write('data: {"a":');
    input.write('');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(text).toBe('data: {"a":');
    holdPartialLine.end('1}\n\n');
    input.end();
    await done.catch(() => undefined);
    expect(events(text)).toEqual(['{"a":1}']);
  });
});
