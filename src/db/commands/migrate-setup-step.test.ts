import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeEachDialect, useEmptyDatabase } from '../../../test/support/databases.js';
import type { SetupUpdateSummary } from '../../kernel/commands/index.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  runKeel,
  writeFiles,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import { tableNames } from '../migrations/table-inspector.js';
import { FAILING_MIGRATION, makeDbApp, removeDbApp } from './__fixtures__/db-app.js';

const apps: string[] = [];
beforeEach(() => {
  for (const key of [
    ...ENV_KEYS,
    'DB_DRIVER',
    'DATABASE_URL',
    'DB_HOST',
    'DB_DATABASE',
    'DB_FILENAME',
  ])
    vi.stubEnv(key, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(apps.splice(0).map(removeDbApp));
});

function step(summary: SetupUpdateSummary, name: string) {
  return summary.steps.find((s) => s.name === name);
}

describeEachDialect('setup:update migrates', (database, dialect) => {
  const current = useEmptyDatabase(database);

  async function app(files: Record<string, string> = {}): Promise<string> {
    const root = await makeDbApp(database().config, files);
    apps.push(root);
    return root;
  }

  it('backs up and migrates before the modules step, then reports up to date', async () => {
    const root = await app();
    const plan = await runKeel(root, 'setup:update', '--dry-run', '--json');
    expect(plan.code).toBe(0);
    expect(step(plan.json<SetupUpdateSummary>(), 'migrate')).toEqual({
      name: 'migrate',
      status: 'planned',
      detail: 'main: would back up and run 2 migrations',
    });
    expect(await tableNames(current())).toEqual([]);

    const result = await runKeel(root, 'setup:update', '--skip-compile', '--json');
    expect(result.code).toBe(0);
    const summary = result.json<SetupUpdateSummary>();
    expect(summary.steps.map((s) => s.name)).toEqual([
      'var-folders',
      'migrate',
      'modules',
      'clear-cache',
      'compile',
    ]);
    expect(step(summary, 'migrate')).toEqual({
      name: 'migrate',
      status: 'done',
      detail: expect.stringMatching(
        /^main: 2 migrations run after backup var\/backups\/backup_main_/,
      ),
    });
    expect((await tableNames(current())).sort()).toEqual(['keel_migrations', 'orders', 'products']);
    expect(await readdir(join(root, 'var/backups'))).toHaveLength(1);

    const again = await runKeel(root, 'setup:update', '--skip-compile', '--json');
    expect(step(again.json<SetupUpdateSummary>(), 'migrate')?.detail).toBe('up to date');
    expect(await readdir(join(root, 'var/backups'))).toHaveLength(1);
  });

  it('--skip-db leaves the database alone; --no-backup migrates without a backup', async () => {
    const root = await app();
    const skipped = await runKeel(root, 'setup:update', '--skip-db', '--skip-compile', '--json');
    expect(step(skipped.json<SetupUpdateSummary>(), 'migrate')).toEqual({
      name: 'migrate',
      status: 'skipped',
      detail: '--skip-db',
    });
    expect(await tableNames(current())).toEqual([]);
    const plan = await runKeel(root, 'setup:update', '--dry-run', '--no-backup', '--json');
    expect(step(plan.json<SetupUpdateSummary>(), 'migrate')?.detail).toBe(
      'main: would run 2 migrations',
    );
    const text = await runKeel(root, 'setup:update', '--no-backup', '--skip-compile');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/migrate: back up the database and run pending migrations/);
    expect(text.stdout).toContain('main: 2 migrations run');
    expect(
      existsSync(join(root, 'var/backups')) && (await readdir(join(root, 'var/backups'))).length,
    ).toBeFalsy();
  });

  it('stops on an UNSAFE database with its code, before the modules step', async () => {
    const root = await app({
      [`modules/shop/migrations/2024_01_03_000000_fail_${dialect}.ts`]: FAILING_MIGRATION,
    });
    const failed = await runKeel(root, 'setup:update', '--no-backup', '--skip-compile');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('E_MIGRATION_FAILED');
    const refused = await runKeel(root, 'setup:update', '--skip-compile');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('E_DB_UNSAFE');
    expect(existsSync(join(root, 'var/state/modules.json'))).toBe(false);
  });
});

describe('setup:update without a database', () => {
  it('has no migrate step (no config, no DB_* variable, no migration files)', async () => {
    const root = await makeFixtureApp();
    apps.push(root);
    const result = await runKeel(root, 'setup:update', '--skip-compile', '--json');
    expect(result.code).toBe(0);
    expect(result.json<SetupUpdateSummary>().steps.map((s) => s.name)).not.toContain('migrate');
    expect(existsSync(join(root, 'var/data'))).toBe(true);
    expect(await readdir(join(root, 'var/data'))).toEqual([]);
  });

  it('runs it for an app whose only database is the default SQLite file, once it has migrations', async () => {
    const root = await makeFixtureApp();
    apps.push(root);
    await writeFiles(root, {
      'modules/core/migrations/2024_01_01_000000_create_notes.ts': `export default { async up(db) { await db.schema.createTable('notes').addColumn('id', 'integer').execute(); } };\n`,
    });
    const result = await runKeel(root, 'setup:update', '--skip-compile', '--no-backup', '--json');
    expect(result.code).toBe(0);
    expect(step(result.json<SetupUpdateSummary>(), 'migrate')?.detail).toBe(
      'default: 1 migration run',
    );
    expect(existsSync(join(root, 'var/data/app.sqlite'))).toBe(true);
  });
});
