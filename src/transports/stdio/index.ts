import type { StdioUpstreamConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import type { Forwarder } from '../../proxy/index.js';
import { createBridgeForwarder } from '../bridge/bridge-forwarder.js';
import { buildChildEnvironment } from './child-environment.js';
import { startChildConnection } from './child-connection.js';
import { checkCommand } from './command-check.js';

export { buildChildEnvironment } from './child-environment.js';
export { LineReader, LineTooLongError } from './line-reader.js';

/**
 * The stdio upstream: each client session gets a child process of its own,
 * stateless (2026-07-28) clients share one. The child's environment is built
 * once, here, from the config.
 *
 * @throws ConfigError when the command or cwd cannot be used
 */
export async function createStdioForwarder(
  upstream: StdioUpstreamConfig,
  { logger, environment }: { logger: Logger; environment: Readonly<Record<string, string | undefined>> },
): Promise<Forwarder> {
  const env = buildChildEnvironment(upstream, environment);
  await checkCommand(upstream.command, upstream.cwd, env['PATH']);
  const child = {
    command: upstream.command,
    args: upstream.args,
    cwd: upstream.cwd,
    env,
    stopTimeoutMs: upstream.stopTimeoutMs,
    maxMessageBytes: upstream.maxMessageBytes,
    logger,
  };
  return createBridgeForwarder({
    kind: 'stdio',
    connect: (handlers) => startChildConnection(child, handlers),
    sessions: upstream.sessions,
    restart: upstream.restart,
    initializeTimeoutMs: upstream.initializeTimeoutMs,
    logger,
  });
}
