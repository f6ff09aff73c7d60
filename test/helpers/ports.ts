import { createServer } from 'node:net';

// Why not `listen(0)`: the gateway's public URL must be known before its tokens are minted, so a test
// picks a port and binds it later. A port the kernel handed out for `listen(0)` comes from the
// ephemeral range (32768–60999 on Linux), the same range every other test process's `listen(0)` and
// outgoing connections draw from, so in the gap it could be taken (EADDRINUSE in CI, twice). Ports
// here come from below that range, from a block of its own for each parallel vitest worker, so only
// this worker ever picks them; binding one before handing it out skips the rare port something else
// on the machine holds.
const FIRST_PORT = 20_000;
const PORTS_PER_WORKER = 300;
const WORKER_BLOCKS = 40; // 20000–31999: stays below the ephemeral range
const workerIndex = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) % WORKER_BLOCKS;
const blockStart = FIRST_PORT + workerIndex * PORTS_PER_WORKER;
// A worker runs several test files one after another, each with fresh module state; starting at a
// random offset keeps a file from reusing the port a previous file's child process may still hold.
let nextOffset = Math.floor(Math.random() * PORTS_PER_WORKER);

/** A TCP port on 127.0.0.1 that is free now and that no other test worker will pick. */
export async function findFreePort(): Promise<number> {
  for (let tried = 0; tried < PORTS_PER_WORKER; tried += 1) {
    const port = blockStart + (nextOffset++ % PORTS_PER_WORKER);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${blockStart}–${blockStart + PORTS_PER_WORKER - 1}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
