/**
 * Request and job logs (the access log and the job log) and the provider that installs
 * them. The logger, its channels, redaction and context fields live in the kernel
 * (`keel/kernel`: createLogger, resolveLoggingConfig, defineLoggingConfig).
 */
export { jobLogInstrument } from './job-log-instrument.js';
export { LoggingProvider } from './logging-provider.js';
export { type RequestLogOptions, requestLogInstrument } from './request-log-instrument.js';
