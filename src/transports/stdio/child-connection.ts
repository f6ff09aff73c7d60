import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { GatewayError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ConnectionHandlers, UpstreamConnection } from '../bridge/connection.js';
import type { Message } from '../bridge/messages.js';
import { LineReader, LineTooLongError } from './line-reader.js';

export interface ChildProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string | undefined;
  /** The child's entire environment (see buildChildEnvironment). */
  env: Record<string, string>;
  /** SIGTERM → SIGKILL grace, in ms. */
  stopTimeoutMs: number;
  /** Longest stdout line (one JSON-RPC message), in bytes. */
  maxMessageBytes: number;
  logger: Logger;
}

/** After the child exited, how long its stdout may take to deliver what it wrote last, in ms. */
const STDOUT_DRAIN_MS = 1000;
/** Longest stderr line kept for the log; the rest of a longer line is cut. */
const MAX_STDERR_LINE = 4096;
/** POSIX: the child leads its own process group, so stopping it also stops what it started (npx, tsx and shell wrappers). */
const OWN_PROCESS_GROUP = process.platform !== 'win32';

/**
 * Starts the MCP server as a child process and speaks the stdio transport
 * with it: one JSON-RPC message per line on stdin/stdout (2025-11-25
 * transports, "stdio"). Lines on stderr go to the operational log. No shell:
 * the command and its arguments are passed as they are.
 */
export async function startChildConnection(options: ChildProcessOptions, handlers: ConnectionHandlers): Promise<UpstreamConnection> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: OWN_PROCESS_GROUP,
    windowsHide: true,
  });
  try {
    await once(child, 'spawn');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new GatewayError('upstream_unreachable', { detail: `could not start the stdio upstream ${options.command} (${code})`, cause: error });
  }
  const pid = child.pid;
  const logger = options.logger.child({ upstream: 'stdio', pid });
  logger.info({ command: options.command }, 'upstream process started');

  let stopping = false;
  let exited = false;
  const stdoutEnded = new Promise<void>((resolve) => child.stdout.once('close', resolve));
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve();
      if (stopping) {
        logger.info({ code, signal }, 'upstream process stopped');
        return;
      }
      const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      logger.warn({ code, signal }, 'upstream process ended');
      handlers.onending?.();
      // What it started (a wrapper's real server) goes with it, rather than living on unattended.
      terminateGroup();
      // What it wrote just before exiting is still in the pipe: deliver it first
      // (a grandchild holding stdout open gets one second, not forever).
      void Promise.race([stdoutEnded, new Promise((wait) => setTimeout(wait, STDOUT_DRAIN_MS).unref())]).then(() => handlers.onclose(`the upstream process ${reason}`));
    });
  });
  // A write after the child is gone fails with EPIPE; the exit above reports it.
  child.stdin.on('error', (error) => logger.debug({ err: error }, 'upstream stdin closed'));

  readMessages(child, options.maxMessageBytes, handlers, logger, () => signal('SIGKILL'));
  readStderr(child, logger);

  function terminateGroup(): void {
    if (!OWN_PROCESS_GROUP || pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Nobody left in the group.
    }
  }

  function signal(name: NodeJS.Signals): void {
    if (exited) return;
    try {
      if (OWN_PROCESS_GROUP && pid !== undefined) process.kill(-pid, name);
      else child.kill(name);
    } catch {
      child.kill(name);
    }
  }

  return {
    async send(message: Message): Promise<void> {
      if (exited || child.stdin.destroyed) throw new Error('the upstream process is not running');
      const line = `${JSON.stringify(message)}\n`;
      if (!child.stdin.write(line)) await Promise.race([once(child.stdin, 'drain'), exit]);
    },
    async close(): Promise<void> {
      if (exited) return;
      stopping = true;
      // The stdio transport's shutdown: close its input, then SIGTERM; SIGKILL
      // after the grace period for a server that ignores both.
      child.stdin.end();
      signal('SIGTERM');
      const timer = setTimeout(() => {
        logger.warn({ stopTimeoutMs: options.stopTimeoutMs }, 'upstream process ignored SIGTERM; sending SIGKILL');
        signal('SIGKILL');
      }, options.stopTimeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

function readMessages(
  child: ChildProcessWithoutNullStreams,
  maxMessageBytes: number,
  handlers: ConnectionHandlers,
  logger: Logger,
  kill: () => void,
): void {
  const lines = new LineReader(maxMessageBytes);
  child.stdout.on('data', (chunk: Buffer) => {
    let received: string[];
    try {
      received = lines.push(chunk);
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      // A protocol violation that would otherwise grow without bound.
      logger.error({ maxMessageBytes }, 'upstream wrote a message larger than maxMessageBytes; stopping it');
      child.stdout.removeAllListeners('data');
      kill();
      return;
    }
    deliver(received);
  });
  child.stdout.once('end', () => {
    const last = lines.flush();
    if (last !== undefined) deliver([last]);
  });

  function deliver(received: readonly string[]): void {
    for (const line of received) {
      const message = parseMessage(line);
      if (message) handlers.onmessage(message);
      // "The server MUST NOT write anything to its stdout that is not a valid
      // MCP message": such output is dropped, noted without its content.
      else if (line.trim() !== '') logger.warn({ bytes: line.length }, 'upstream wrote a line on stdout that is not a JSON-RPC message; dropped');
    }
  }
}

function readStderr(child: ChildProcessWithoutNullStreams, logger: Logger): void {
  // Long lines are cut, not buffered: the log is for people.
  const lines = new LineReader(Number.MAX_SAFE_INTEGER);
  const log = (line: string | undefined) => {
    if (line !== undefined && line.trim() !== '') {
      logger.info({ stderr: line.length > MAX_STDERR_LINE ? `${line.slice(0, MAX_STDERR_LINE)}…` : line }, 'upstream stderr');
    }
  };
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) log(line);
    if (lines.pendingBytes > MAX_STDERR_LINE) log(lines.flush());
  });
  child.stderr.once('end', () => log(lines.flush()));
}

function parseMessage(line: string): Message | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const valid = typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { jsonrpc?: unknown }).jsonrpc === '2.0';
  return valid ? (value as Message) : undefined;
}
