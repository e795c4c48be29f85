export { type ApplicationLoggerOptions, createApplicationLogger } from './app-logger.js';
export * from './errors.js';
export { FileChannel, type FileChannelOptions } from './file-channel.js';
export {
  attachLineSink,
  jsonString,
  type LineSink,
  lineSink,
  millisString,
  serializedBindings,
  writeLine,
} from './line-sink.js';
export { buildLogChannels, type LogChannels, type LogChannelsOptions } from './log-channels.js';
export { createLogContextMixin, type LogContextOptions, sampledRssMb } from './log-context.js';
export {
  defineLoggingConfig,
  type FileChannelConfig,
  type LogChannelConfig,
  type LoggingConfig,
  type LoggingConfigInput,
  type LogLevelName,
  type LogProcessor,
  levelValue,
  loggingConfigSchema,
  resolveLoggingConfig,
} from './logging-config.js';
export { createPrettyStream, type PrettyStreamOptions } from './pretty-stream.js';
export {
  escapeForTerminal,
  escapeLineBreaks,
  hasDigitRun,
  maskCardNumbers,
  maskCardNumbersInJson,
  REDACTED,
  redactSecrets,
} from './redaction.js';
