// Keel's application logger as an app configures it for production files, for the benchmarks
// that log: `logging.channels.app = { driver: 'file', rotate: 'daily' }`. Needs dist/.
import { createApplicationLogger, resolveLoggingConfig } from '../../dist/kernel/index.js';

/** `{ logger, channels }` writing to `file`; `logging` adds to the config (e.g. `redact`). */
export function appFileLogger(root, file, logging = {}) {
  return createApplicationLogger({
    name: 'bench',
    env: 'production',
    version: '1.0.0',
    root,
    config: resolveLoggingConfig({
      default: 'app',
      channels: { app: { driver: 'file', path: file, rotate: 'daily' } },
      ...logging,
    }),
  });
}
