// Logs N lines through the stdout channel (LineBatcher over pino's asynchronous sonic-boom)
// and calls process.exit() in the same turn: every line must still reach stdout.
import { createApplicationLogger, resolveLoggingConfig } from '../../index.js';

const count = Number(process.argv[2] ?? '100');
const { logger } = createApplicationLogger({
  name: 'exit-fixture',
  env: 'production',
  version: '1',
  root: process.cwd(),
  config: resolveLoggingConfig({}),
});
for (let i = 0; i < count; i++) logger.info({ i }, 'line');
process.exit(0);
