import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The operational log: JSON lines on stderr (by default). Audit records go to
 * their own stream (stdout or a file), never here. Nothing logged by the gateway carries a token; the redact
 * list is a second line of defence for headers that might be logged by mistake.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mcp-auth-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.authorization', '*.headers.authorization', '*.headers.cookie', '*.headers["proxy-authorization"]', 'token'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination(2),
  );
}

/** A logger that drops everything: the default for library use and unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
