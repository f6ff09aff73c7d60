import { once } from 'node:events';
import { createParser } from 'eventsource-parser';
import { describe, expect, it, vi } from 'vitest';
import { SseKeepAlive } from '../../../src/proxy/index.js';

/** Writes the parts with a pause after each (long enough for keep-alives), returns the output. */
async function run(parts: string[], pauseMs: number): Promise<string> {
  const stream = new SseKeepAlive({ keepAliveMs: 60, idleTimeoutMs: 0 });
  let output = '';
  stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (const part of parts) {
    stream.write(part);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  stream.end();
  await once(stream, 'end');
  return output;
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
      const streams = Array.from({ length: 50 }, () => new SseKeepAlive({ keepAliveMs: 60, idleTimeoutMs: 0 }));
      const outputs = streams.map((stream) => {
        const output = { text: '' };
        stream.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
        return output;
      });
      expect(setIntervalSpy).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Every stream got its keep-alives from the one timer.
      for (const output of outputs) expect(output.text).toContain(': keep-alive\n');
      streams.slice(1).forEach((stream) => stream.destroy());
      expect(clearIntervalSpy).not.toHaveBeenCalled();
      streams[0]!.end();
      await once(streams[0]!, 'end');
      expect(clearIntervalSpy).toHaveBeenCalledTimes(1);
    } finally {
      setIntervalSpy.mockRestore();
      clearIntervalSpy.mockRestore();
    }
  });
});
