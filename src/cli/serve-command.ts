import { loadConfigFile } from '../config/index.js';
import { createGateway } from '../gateway.js';
import { createLogger } from '../log/index.js';
import type { CliIo } from './main.js';

/**
 * `serve`: run until SIGTERM/SIGINT, then drain (readiness goes false, the lame-duck
 * period passes still serving, in-flight requests finish, streams are closed after the
 * drain timeout) and exit 0. A second signal during the drain ends the process at once
 * (its handler is removed after the first).
 * A config error is thrown before anything listens.
 */
export async function runServe(configPath: string, io: CliIo): Promise<number> {
  const config = await loadConfigFile(configPath, { env: io.env });
  const logger = createLogger(config.logging.level);
  const gateway = createGateway(config, { logger });
  exitOnFatalErrors(logger);
  await gateway.start();

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal, ...config.shutdown }, 'shutting down');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await gateway.stop();
  logger.info('stopped');
  logger.flush();
  return 0;
}

/** A bug that escaped every handler: record it (the logger writes synchronously) and exit non-zero. */
function exitOnFatalErrors(logger: ReturnType<typeof createLogger>): void {
  const die = (error: unknown) => {
    logger.fatal({ err: error }, 'fatal error; exiting');
    logger.flush();
    process.exit(1);
  };
  process.once('uncaughtException', die);
  process.once('unhandledRejection', die);
}
