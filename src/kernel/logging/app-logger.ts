import { createLogger, type Logger } from '../logger.js';
import { buildLogChannels, type LogChannels, type LogChannelsOptions } from './log-channels.js';
import type { LoggingConfig } from './logging-config.js';

export interface ApplicationLoggerOptions extends LogChannelsOptions {
  name: string;
  env: string;
  version: string;
  config: LoggingConfig;
}

/**
 * The application's logger from its `logging` config: the default channel's streams, the
 * lowest level they admit, the redaction paths and the processors. `channels.close()` is
 * what the application runs last at shutdown.
 *
 * @example
 * ```ts
 * const { logger, channels } = createApplicationLogger({
 *   name: 'erp', env: 'production', version: '1.4.0', root, config: resolveLoggingConfig(raw),
 * });
 * ```
 */
export function createApplicationLogger(options: ApplicationLoggerOptions): {
  logger: Logger;
  channels: LogChannels;
} {
  const { config } = options;
  const channels = buildLogChannels(config, options);
  const logger = createLogger({
    name: options.name,
    env: options.env,
    version: options.version,
    level: channels.level,
    destination: channels.destination,
    redact: config.redact,
    maskCardNumbers: config.maskCardNumbers,
    memory: config.memory,
    processors: config.processors,
  });
  return { logger, channels };
}
