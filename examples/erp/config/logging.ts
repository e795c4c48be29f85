import { env } from 'keel';
import { defineLoggingConfig } from 'keel/kernel';

// Every line goes to stdout (pretty on a terminal outside production, JSON lines otherwise,
// for a container runtime or a log agent to collect); errors also go to var/log/errors.log,
// rotated at UTC midnight, gzipped, kept 30 days: the file to read after an incident.
// LOG_CHANNEL=stdout drops the file; LOG_LEVEL sets the level (info in production).
export default defineLoggingConfig({
  default: env('LOG_CHANNEL', 'stack'),
  channels: {
    errors: {
      driver: 'file',
      path: 'var/log/errors.log',
      level: 'error',
      rotate: 'daily',
      keep: '30d',
      compress: true,
    },
    stack: { driver: 'stack', channels: ['stdout', 'errors'] },
  },
  // Customers' bank accounts and VAT ids, logged as a field or inside an object logged whole
  // (`{ customer }`); passwords, tokens and card numbers are redacted by default.
  redact: ['iban', 'vatId', '*.iban', '*.vatId'],
  requests: {
    // Probes and scrapes arrive every few seconds and say nothing about the business.
    skip: ['/healthz', '/ready', '/health', '/health/*', '/_metrics'],
  },
});
