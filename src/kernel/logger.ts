import type { DestinationStream, LoggerOptions, Logger as PinoLogger } from 'pino';
import { pino } from 'pino';
import { attachLineSink } from './logging/line-sink.js';
import { createLogContextMixin } from './logging/log-context.js';
import type { LogProcessor } from './logging/logging-config.js';
import { createPrettyStream } from './logging/pretty-stream.js';
import {
  escapeLineBreaks,
  maskCardNumbersInJson,
  REDACTED,
  redactSecrets,
} from './logging/redaction.js';

/** Keel's logger is pino's: JSON lines in production, pretty on a TTY in development. */
export type Logger = PinoLogger;

export interface LoggerSettings {
  /** The application name, added to every line as `app`. */
  name: string;
  level?: string;
  /** `env` on every line (the APP_ENV). */
  env?: string;
  /** `version` on every line (the application's version). */
  version?: string;
  /** Pretty-print (colours, one line per entry). Defaults to a TTY in development. */
  pretty?: boolean;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
  /** Paths whose values are replaced by `[redacted]`, beyond the usual secrets. */
  redact?: string[];
  /** Mask Luhn-valid card numbers in logged strings (default true). */
  maskCardNumbers?: boolean;
  /** `memory` (RSS in MB, sampled once a second) on every line (default true). */
  memory?: boolean;
  /** Functions adding fields to every line (from the line's fields and the scope). */
  processors?: readonly LogProcessor[];
}

/**
 * Create a logger. Every line carries `app`, `env`, `version` and `pid`; inside a request or
 * a job also its `request_id`, `job_id` and `user_id` (read from the execution context, so
 * no logger needs passing around) and what processors add. Secrets are redacted and card
 * numbers masked before anything is written, and a message's line breaks are escaped.
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
    base: {
      app: settings.name,
      ...(settings.env !== undefined ? { env: settings.env } : {}),
      ...(settings.version !== undefined ? { version: settings.version } : {}),
      pid: process.pid,
      ...settings.base,
    },
    // Secrets by key name in one pass per line (redactSecrets); pino's path redaction only
    // for the app's own paths, which re-reads every path on every line.
    formatters: { log: redactSecrets, bindings: redactSecrets },
    ...(settings.redact !== undefined && settings.redact.length > 0
      ? { redact: { paths: [...settings.redact], censor: REDACTED } }
      : {}),
    timestamp: isoTimeCached,
    mixin: createLogContextMixin({
      memory: settings.memory ?? true,
      processors: settings.processors ?? [],
    }),
    // Passing serializers replaces pino's defaults: keep its error serializer.
    serializers: { err: pino.stdSerializers.err, msg: escapeLineBreaks },
    ...(settings.maskCardNumbers === false
      ? {}
      : { hooks: { streamWrite: maskCardNumbersInJson } }),
  };
  let destination = settings.destination as DestinationStream | undefined;
  if (settings.pretty) {
    // pino-pretty runs in-process (no worker thread), so a development boot does not pay for
    // spawning a transport.
    destination = createPrettyStream({
      destination: destination ?? pino.destination({ dest: 1, sync: true }),
    });
  }
  const logger = destination ? pino(options, destination) : pino(options);
  // Lines nothing configurable could alter may be formatted by a hot-path writer itself.
  if (
    !settings.pretty &&
    (settings.redact === undefined || settings.redact.length === 0) &&
    (settings.processors === undefined || settings.processors.length === 0)
  ) {
    attachLineSink(logger, {
      stream: (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!,
      memory: settings.memory ?? true,
      maskCards: settings.maskCardNumbers !== false,
    });
  }
  return logger;
}

let lastMs = -1;
let lastTime = '';
let lastSecond = -1;
/** `,"time":"2026-11-27T10:40:12.` for the current second. */
let secondPrefix = '';

/**
 * pino's ISO timestamp (`,"time":"…"`), formatted once per millisecond: a busy process writes
 * many lines in the same millisecond. Within a second only the milliseconds change, so
 * `toISOString()` runs once a second and each new millisecond appends three digits.
 */
export function isoTimeCached(now: number = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    const ms = now % 1000;
    const second = now - ms;
    if (second !== lastSecond) {
      lastSecond = second;
      secondPrefix = `,"time":"${new Date(second).toISOString().slice(0, 20)}`;
    }
    lastTime = `${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  }
  return lastTime;
}

/** A logger that drops everything (tests, `--silent`). */
export function createNullLogger(): Logger {
  return pino({ level: 'silent' });
}
