/**
 * Child processes of the benchmark: servers pinned to the server CPUs,
 * clients (load generators) to the client CPUs, every one of them ended when
 * the harness exits, however it exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so `--import tsx` and relative paths resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a TypeScript file of bench/ in plain node, with tsx's loader (one process: its pid is the server's). */
export function nodeTs(file: string, args: string[] = []): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../${file}`, import.meta.url)), ...args]];
}

export interface Pinning {
  /** CPU list for servers (taskset -c syntax), or undefined when unpinned. */
  server: string | undefined;
  /** CPU list for load generators and the harness itself. */
  client: string | undefined;
  description: string;
}

/**
 * Servers on one CPU, load generators on another, when taskset exists and
 * there are at least two CPUs; otherwise nothing is pinned (and the report says so).
 */
export function choosePinning(serverCpus: string, clientCpus: string): Pinning {
  const haveTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!haveTaskset) return { server: undefined, client: undefined, description: 'none (taskset not found)' };
  if (os.cpus().length < 2) return { server: undefined, client: undefined, description: 'none (fewer than 2 CPUs)' };
  // Pin the harness too: its token source and bookkeeping must not steal the servers' CPU.
  spawnSync('taskset', ['-a', '-cp', clientCpus, String(process.pid)], { stdio: 'ignore' });
  return { server: serverCpus, client: clientCpus, description: `servers on CPU ${serverCpus}; load generators, clients and the harness on CPU ${clientCpus}` };
}

export function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

const live = new Set<ChildProcess>();

/**
 * Ends every child still running when the harness exits. On Ctrl-C or SIGTERM the children are
 * stopped at once and `onSignal` is told (the harness then skips what is left, cleans up and
 * reports what it has); a second signal, or 10 s, ends the harness too. Call once.
 */
export function killChildrenOnExit(onSignal: () => void): void {
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(130);
      signalled = true;
      process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
      for (const child of live) child.kill('SIGTERM');
      onSignal();
      setTimeout(() => process.exit(130), 10_000).unref();
    });
  }
}

export interface ServerProcess<T> {
  name: string;
  pid: number;
  child: ChildProcess;
  /** What the ready check returned (e.g. the port). */
  ready: T;
  /** Milliseconds from spawn until ready. */
  readyAfterMs: number;
  /** The last lines the process wrote to stderr (for error messages). */
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface StartOptions<T> {
  name: string;
  cpus: string | undefined;
  command: [string, string[]];
  /** Looks at each output line (stdout and stderr); returns a value once the server is ready. */
  ready: (line: string, stream: 'stdout' | 'stderr') => T | undefined;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Starts a server and waits for its ready line; a clear error with its output when it exits or times out first. */
export function startProcess<T>({ name, cpus, command, ready, timeoutMs = 20_000, env }: StartOptions<T>): Promise<ServerProcess<T>> {
  const [cmd, args] = pinned(cpus, command[0], command[1]);
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  live.add(child);
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start: ${why}\n  command: ${[cmd, ...args].join(' ')}\n  its last output:\n${tail.map((l) => `    ${l}`).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const watch = (stream: 'stdout' | 'stderr') => {
      let buffered = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (data: string) => {
        buffered += data;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
          if (tail.length > 20) tail.shift();
          if (settled) continue;
          const value = ready(line, stream);
          if (value !== undefined) {
            settled = true;
            clearTimeout(timer);
            resolve({
              name,
              pid: child.pid!,
              child,
              ready: value,
              readyAfterMs: performance.now() - started,
              stderrTail: () => tail.join('\n'),
              async stop() {
                if (child.exitCode === null && child.signalCode === null) {
                  child.kill('SIGTERM');
                  const force = setTimeout(() => child.kill('SIGKILL'), 5000);
                  await exited;
                  clearTimeout(force);
                }
              },
            });
          }
        }
      });
    };
    watch('stdout');
    watch('stderr');
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`));
  });
}

/** A benchmark server that prints `READY {"port":N}` (bench/fixtures/server-process.ts). */
export async function startBenchServer(name: string, cpus: string | undefined, file: string, args: string[] = []): Promise<ServerProcess<number>> {
  return startProcess({
    name,
    cpus,
    command: nodeTs(file, args),
    ready: (line, stream) => (stream === 'stdout' && line.startsWith('READY ') ? (JSON.parse(line.slice(6)) as { port: number }).port : undefined),
  });
}

/** Runs a client to completion on the client CPUs; resolves with its stdout. */
export function runToCompletion(cpus: string | undefined, command: [string, string[]], { timeoutMs = 15 * 60_000 } = {}): Promise<string> {
  const [cmd, args] = pinned(cpus, command[0], command[1]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => reject(new Error(`${cmd}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      live.delete(child);
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${[cmd, ...args].join(' ')} ended with ${signal ?? `code ${code}`}\n${err.slice(-2000)}`));
    });
  });
}

/** The `RESULT {...}` line of a client's output, parsed. */
export function parseResultLine<T>(output: string): T {
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in the client's output:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as T;
}
