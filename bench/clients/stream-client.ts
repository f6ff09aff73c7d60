/**
 * Stream measurements, from the client side. Prints one `RESULT {...}` line.
 *
 * - `first-event`: time from writing the request to the end of the first SSE
 *   event (upstream mode `sse-first`: a progress event at once, the result
 *   later), requests to the targets interleaved one by one.
 * - `idle`: opens `count` GET listen streams, each on its own connection,
 *   rotating through the tokens; prints `OPENED {...}` once all are open,
 *   holds them for `holdSeconds`, counts any that ended early, closes them.
 * - `large`: time to the first and to the last byte of a large result that
 *   the upstream writes slowly (mode `large` with a delay between chunks).
 *
 *   node --import tsx bench/clients/stream-client.ts '<StreamSpec as JSON>'
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Client } from 'undici';
import { CLIENT_HEADERS, DELAY_HEADER, MODE_HEADER, REQUEST_BODY } from '../fixtures/payloads.js';
import { median, percentile } from '../harness/stats.js';

export type StreamSpec =
  | { kind: 'first-event'; targets: Array<{ name: string; url: string }>; count: number; delayMs: number; tokenFile: string }
  | { kind: 'idle'; url: string; count: number; concurrency: number; holdSeconds: number; tokenFile: string }
  | { kind: 'large'; targets: Array<{ name: string; url: string }>; count: number; delayMs: number; tokenFile: string };

const spec = JSON.parse(process.argv[2]!) as StreamSpec;
const tokens = readFileSync(spec.tokenFile, 'utf8').split('\n').filter(Boolean);
const result = spec.kind === 'first-event' ? await firstEvent(spec) : spec.kind === 'idle' ? await idleStreams(spec) : await largeResults(spec);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);

function headersFor(mode: string, delayMs: number, token = tokens[0]!): Record<string, string> {
  return { ...CLIENT_HEADERS, [MODE_HEADER]: mode, [DELAY_HEADER]: String(delayMs), authorization: `Bearer ${token}` };
}

async function firstEvent(s: Extract<StreamSpec, { kind: 'first-event' }>) {
  const clients = s.targets.map((target) => ({ ...target, url: new URL(target.url), client: new Client(new URL(target.url).origin, { pipelining: 1 }), samples: [] as number[], errors: 0 }));
  for (let round = -Math.min(20, s.count); round < s.count; round += 1) {
    for (const target of clients) {
      const sent = performance.now();
      let firstEventAt: number | undefined;
      try {
        const response = await target.client.request({ method: 'POST', path: target.url.pathname, headers: headersFor('sse-first', s.delayMs), body: REQUEST_BODY });
        let text = '';
        for await (const chunk of response.body) {
          if (firstEventAt === undefined) {
            text += String(chunk);
            if (text.includes('\n\n')) firstEventAt = performance.now();
          }
        }
        if (response.statusCode !== 200 || firstEventAt === undefined) target.errors += 1;
      } catch {
        target.errors += 1;
      }
      // Negative rounds are warm-up.
      if (round >= 0 && firstEventAt !== undefined) target.samples.push(firstEventAt - sent);
    }
  }
  await Promise.all(clients.map((target) => target.client.close()));
  return Object.fromEntries(clients.map((t) => [t.name, { count: t.samples.length, medianMs: median(t.samples), p90Ms: percentile(t.samples, 90), errors: t.errors }]));
}

async function idleStreams(s: Extract<StreamSpec, { kind: 'idle' }>) {
  const url = new URL(s.url);
  const sockets: Socket[] = [];
  const statuses: Record<string, number> = {};
  let closedEarly = 0;
  let holding = false;
  const started = performance.now();

  function open(index: number): Promise<void> {
    const token = tokens[index % tokens.length]!;
    return new Promise((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      let head = '';
      let settled = false;
      const done = (status: string) => {
        if (settled) return;
        settled = true;
        statuses[status] = (statuses[status] ?? 0) + 1;
        resolve();
      };
      socket.setEncoding('latin1');
      socket.on('data', (data: string) => {
        if (settled) return;
        head += data;
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          const status = head.slice(9, 12);
          if (status === '200') sockets.push(socket);
          else socket.destroy();
          done(status);
        }
      });
      socket.once('close', () => {
        if (holding && sockets.includes(socket)) closedEarly += 1;
        done('closed');
      });
      socket.once('error', () => done('error'));
      socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nMcp-Protocol-Version: ${CLIENT_HEADERS['mcp-protocol-version']}\r\n` +
          `${MODE_HEADER}: idle\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(s.concurrency, s.count) }, async () => {
      while (next < s.count) await open(next++);
    }),
  );
  const openMs = performance.now() - started;
  holding = true;
  process.stdout.write(`OPENED ${JSON.stringify({ open: sockets.length, openMs })}\n`);
  await new Promise((resolve) => setTimeout(resolve, s.holdSeconds * 1000));
  holding = false;
  const stillOpen = sockets.filter((socket) => !socket.destroyed).length;
  for (const socket of sockets) socket.destroy();
  return { requested: s.count, opened: sockets.length, stillOpen, closedEarly, statuses, openMs };
}

async function largeResults(s: Extract<StreamSpec, { kind: 'large' }>) {
  const out: Record<string, unknown> = {};
  for (const target of s.targets) {
    const url = new URL(target.url);
    const client = new Client(url.origin, { pipelining: 1 });
    const firstByte: number[] = [];
    const lastByte: number[] = [];
    let bytes = 0;
    let errors = 0;
    for (let index = 0; index < s.count; index += 1) {
      const sent = performance.now();
      let first: number | undefined;
      bytes = 0;
      try {
        const response = await client.request({ method: 'POST', path: url.pathname, headers: headersFor('large', s.delayMs), body: REQUEST_BODY });
        for await (const chunk of response.body) {
          first ??= performance.now();
          bytes += (chunk as Buffer).length;
        }
        if (response.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      if (first !== undefined) {
        firstByte.push(first - sent);
        lastByte.push(performance.now() - sent);
      }
    }
    await client.close();
    out[target.name] = { count: firstByte.length, bytes, firstByteMs: median(firstByte), lastByteMs: median(lastByte), errors };
  }
  return out;
}
