import { loadConfigFile } from '../config/index.js';
import { createGateway } from '../gateway.js';
import { createLogger } from '../log/index.js';
import type { CliIo } from './main.js';

/**
 * `serve`: run until SIGTERM/SIGINT, then drain (readiness goes false, the lame-duck
 * period passes still serving, in-flight requests finish, streams are closed after the
 * drain timeout) and exit 0. A second signal during the drain ends the process at once
 * (its handler is removed after the first). SIGHUP reloads the policy.
 * A config or policy error is thrown before anything listens.
 */
export async function runServe(configPath: string, io: CliIo): Promise<number> {
  const config = await loadConfigFile(configPath, { env: io.env });
  const logger = createLogger(config.logging.level);
  const gateway = await createGateway(config, { logger, environment: io.env });
  exitOnFatalErrors(logger, () => gateway.flushAudit());
  await gateway.start();
  // SIGHUP re-reads the policy directory (an invalid edit is logged and ignored).
  const onHangup = () => void gateway.reloadPolicy();
  process.on('SIGHUP', onHangup);

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
  process.off('SIGHUP', onHangup);
  await gateway.stop();
  logger.info('stopped');
  logger.flush();
  return 0;
}

/**
 * A bug that escaped every handler: log it, write out buffered audit records
 * (they describe requests already answered) and exit non-zero.
 */
function exitOnFatalErrors(logger: ReturnType<typeof createLogger>, flushAudit: () => void): void {
  const die = (error: unknown) => {
    logger.fatal({ err: error }, 'fatal error; exiting');
    flushAudit();
    logger.flush();
    process.exit(1);
  };
  process.once('uncaughtException', die);
  process.once('unhandledRejection', die);
}
