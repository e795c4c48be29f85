import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { describeEachDialect, testConnection } from '../../../test/support/databases.js';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../../test/support/fixture-app.js';
import { keelProcesses } from '../../../test/support/keel-process.js';
import { ENV_KEYS, runKeel } from '../../modules/commands/__fixtures__/cli-fixture.js';
import { dropAllTables, tableNames } from '../migrations/table-inspector.js';
import type { ConnectionStatus } from './migrate-status-command.js';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** Creates its table, says so with a file, then hangs until killed. */
const SLOW = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default {
  async up(db) {
    await db.schema.createTable('crash_t').addColumn('id', 'integer').execute();
    writeFileSync(join(process.cwd(), 'started'), String(process.pid));
    await new Promise(() => setInterval(() => {}, 1000));
  },
};
`;
const SLOW_FILE = 'modules/shop/migrations/2024_01_01_000000_create_crash_t.ts';

const fixtures: FixtureApp[] = [];
const startKeel = keelProcesses();
beforeEach(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

describeEachDialect('a migration killed with SIGKILL', (database, dialect) => {
  it('leaves the database UNSAFE (interrupted) for the next run', async () => {
    const connection = testConnection(database());
    try {
      await dropAllTables(connection);
      const fixture = await createFixtureApp({
        'keel.config.ts': APP_FILE,
        '.env': 'APP_ENV=development\nLOG_LEVEL=warn\n',
        'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
        'config/database.ts': `export default ${JSON.stringify({
          default: 'main',
          connections: { main: database().config },
        })};\n`,
        'modules/shop/module.ts': moduleFile(
          `{ name: 'shop', version: '1.0.0', migrations: 'migrations' }`,
        ),
        [SLOW_FILE]: SLOW,
      });
      fixtures.push(fixture);
      const root = fixture.root;
      const { child, output, exited } = startKeel(root, ['run.mjs', 'migrate', '--no-backup']);
      await expect
        .poll(() => existsSync(join(root, 'started')) || output().includes('E_'), {
          timeout: 30_000,
          interval: 50,
        })
        .toBe(true);
      expect(output()).not.toContain('E_');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      // The dead process's record is still there: status calls it interrupted.
      const before = await runKeel(root, 'migrate:status', '--json');
      const [interrupted] = before.json<{ connections: ConnectionStatus[] }>().connections;
      expect(interrupted).toMatchObject({
        state: 'interrupted',
        running: { migration: '2024_01_01_000000_create_crash_t', pid: child.pid },
      });

      const refused = await runKeel(root, 'migrate', '--no-backup');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('E_DB_UNSAFE');
      expect(refused.stderr).toContain(`was interrupted`);
      expect(refused.stderr).toContain(`process ${child.pid}`);
      const after = await runKeel(root, 'migrate:status', '--json');
      const [unsafe] = after.json<{ connections: ConnectionStatus[] }>().connections;
      const changes = dialect === 'mysql' ? 'partial' : 'rolled-back';
      expect(unsafe).toMatchObject({ state: 'unsafe', unsafe: { reason: 'interrupted', changes } });
      // Transactional DDL died with its connection; MySQL had committed the table.
      expect((await tableNames(connection)).includes('crash_t')).toBe(dialect === 'mysql');

      // Once checked and reset, migrating works again (with a migration that finishes).
      await rm(join(root, SLOW_FILE));
      await fixture.write(
        'modules/shop/migrations/2024_01_02_000000_create_fine.ts',
        `export default { async up(db) { await db.schema.createTable('fine').addColumn('id', 'integer').execute(); } };\n`,
      );
      expect((await runKeel(root, 'migrate:reset-state', '--force')).code).toBe(0);
      const retried = await runKeel(root, 'migrate', '--no-backup');
      expect(retried.code).toBe(0);
      expect(await tableNames(connection)).toContain('fine');
    } finally {
      await connection.close();
    }
  }, 60_000);
});
