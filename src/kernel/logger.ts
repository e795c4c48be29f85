import { createRequire } from 'node:module';
import type { DestinationStream, LoggerOptions, Logger as PinoLogger } from 'pino';
import { pino } from 'pino';

/** Keel's logger is pino's: JSON lines in production, pretty on a TTY in development. */
export type Logger = PinoLogger;

export interface LoggerSettings {
  /** The application name, added to every line as `app`. */
  name: string;
  level?: string;
  /** Pretty-print (colours, one line per entry). Defaults to a TTY in development. */
  pretty?: boolean;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
  /** Paths whose values are replaced by `[redacted]`. */
  redact?: string[];
}

const DEFAULT_REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

/**
 * Create the application logger.
 *
 * @example
 * ```ts
 * const logger = createLogger({ name: 'erp', level: 'info' });
 * logger.child({ module: 'catalog' }).info('ready');
 * ```
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { app: settings.name, pid: process.pid, ...settings.base },
    redact: { paths: [...DEFAULT_REDACT, ...(settings.redact ?? [])], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.pretty) {
    // pino-pretty is loaded only when asked for, and runs in-process (no worker thread) so a
    // development boot does not pay for spawning a transport.
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (opts: object) => DestinationStream;
    return pino(
      options,
      pretty({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,app',
        destination: settings.destination ?? 1,
        sync: true,
      }),
    );
  }
  if (settings.destination) return pino(options, settings.destination as DestinationStream);
  return pino(options);
}

/** A logger that drops everything (tests, `--silent`). */
export function createNullLogger(): Logger {
  return pino({ level: 'silent' });
}
