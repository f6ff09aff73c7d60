import { connect } from 'node:net';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type GatewayEnv, type ListeningServer } from '../../../src/http/index.js';
import { silentLogger } from '../../../src/log/index.js';

let server: ListeningServer;
beforeAll(async () => {
  const app = new Hono<GatewayEnv>();
  app.get('/', (c) => c.json({ headers: (c.env.incoming?.rawHeaders.length ?? 0) / 2 }));
  server = await listen(app, { host: '127.0.0.1', port: 0, logger: silentLogger, limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxHeaderBytes: 16 * 1024 } });
});
afterAll(async () => server?.close(0));

function rawGet(headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += String(chunk)));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines.join('\r\n')}\r\n\r\n`);
  });
}

describe('listen', () => {
  it('keeps every header within the size limit: none is dropped silently after the 2,000th', async () => {
    // The repeated-Authorization check (and anything else reading rawHeaders) must see them all;
    // node's default maxHeadersCount would drop the tail, the size limit already bounds memory.
    const response = await rawGet(Array.from({ length: 2500 }, (_, index) => `${'abcdefghij'[index % 10]}:`));
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toEqual({ headers: 2502 });
  });
});
