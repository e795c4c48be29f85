import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeEachDialect, useEmptyDatabase } from '../../../test/support/databases.js';
import { ENV_KEYS, runKeel, writeFiles } from '../../modules/commands/__fixtures__/cli-fixture.js';
import type { BackupFile } from '../backup/backup-file.js';
import { makeDbApp, removeDbApp } from './__fixtures__/db-app.js';
import type { DbTablesOutput } from './db-tables-command.js';
import type { MakeMigrationOutput } from './make-migration-command.js';

const apps: string[] = [];
beforeEach(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(apps.splice(0).map(removeDbApp));
});

describeEachDialect('db:backup, db:backups, db:restore, db:tables', (database, dialect) => {
  const current = useEmptyDatabase(database);

  async function app(): Promise<string> {
    const root = await makeDbApp(database().config);
    apps.push(root);
    expect((await runKeel(root, 'migrate', '--no-backup')).code).toBe(0);
    return root;
  }

  async function productNames(): Promise<string[]> {
    const rows = await current().selectFrom('products').select('name').orderBy('name').execute();
    return rows.map((r: { name: string }) => r.name);
  }

  it('backs up, lists and restores (asking first unless --force); a restore clears UNSAFE', async () => {
    const root = await app();
    await current()
      .insertInto('products')
      .values([{ name: 'anvil' }, { name: 'rope' }])
      .execute();

    const taken = await runKeel(root, 'db:backup', '--json');
    expect(taken.code).toBe(0);
    const backup = taken.json<BackupFile>();
    expect(backup).toMatchObject({ connection: 'main', dialect });
    expect(backup.file).toBe(`var/backups/${backup.name}`);
    expect(backup.bytes).toBeGreaterThan(0);
    const text = await runKeel(root, 'db:backup');
    expect(text.stdout).toMatch(
      /main: backed up to var\/backups\/backup_main_\S+ \(\d+(\.\d)? (B|KB)\)/,
    );

    const listed = await runKeel(root, 'db:backups', '--json');
    const { backups, directory } = listed.json<{ backups: BackupFile[]; directory: string }>();
    expect(directory).toBe('var/backups');
    expect(backups).toHaveLength(2);
    expect(backups[1]!.name).toBe(backup.name);
    const table = await runKeel(root, 'db:backups', '--connection', 'main');
    expect(table.stdout).toMatch(/File\s+Connection\s+Size\s+Date/);
    expect(table.stdout).toContain(backup.name);

    await current().deleteFrom('products').where('name', '=', 'rope').execute();
    await writeFiles(root, {
      'var/state/migrations.json': JSON.stringify({
        version: 1,
        connections: {
          main: {
            unsafe: {
              reason: 'failed',
              migration: 'x',
              module: 'shop',
              connection: 'main',
              direction: 'up',
              error: 'boom',
              at: '2024-01-01T00:00:00.000Z',
              changes: 'partial',
            },
          },
        },
      }),
    });

    // No terminal to confirm on: nothing happens.
    const cancelled = await runKeel(root, 'db:restore', backup.name);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stderr).toContain('Restore cancelled');
    expect(await productNames()).toEqual(['anvil']);

    const restored = await runKeel(root, 'db:restore', backup.name, '--force', '--json');
    expect(restored.code).toBe(0);
    expect(restored.json()).toMatchObject({ connection: 'main', dialect, stateCleared: true });
    expect(await productNames()).toEqual(['anvil', 'rope']);
    expect(JSON.parse(await readFile(join(root, 'var/state/migrations.json'), 'utf8'))).toEqual({
      version: 1,
      connections: {},
    });
    const byPath = await runKeel(root, 'db:restore', backup.file, '--force');
    expect(byPath.stdout).toContain(`main: restored ${backup.file}`);

    const missing = await runKeel(
      root,
      'db:restore',
      'backup_main_19990101_000000_000.sql',
      '--force',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('E_BACKUP_NOT_FOUND');
    expect(missing.stderr).toContain(backup.name);
  });

  it('db:tables lists tables with exact row counts and sizes', async () => {
    const root = await app();
    await current()
      .insertInto('products')
      .values(Array.from({ length: 12 }, (_, i) => ({ name: `p${i}` })))
      .execute();
    const result = await runKeel(root, 'db:tables', '--json');
    expect(result.code).toBe(0);
    const output = result.json<DbTablesOutput>();
    expect(output).toMatchObject({ connection: 'main', dialect });
    expect(output.tables.map((t) => [t.name, t.rows])).toEqual([
      ['keel_migrations', 2],
      ['orders', 0],
      ['products', 12],
    ]);
    expect(output.totalBytes).toBeGreaterThan(0);
    const text = await runKeel(root, 'db:tables');
    expect(text.stdout).toMatch(/Table\s+Rows\s+Size/);
    expect(text.stdout).toMatch(/products\s+12\s+\d/);
    expect(text.stdout).toMatch(/3 tables, 14 rows, /);
  });
});

describe('db:backups without backups, and make:migration', () => {
  async function sqliteApp(): Promise<string> {
    const root = await makeDbApp({
      driver: 'sqlite',
      filename: 'var/data/app.sqlite',
      wal: true,
      busyTimeoutMs: 5000,
      foreignKeys: true,
      readonly: false,
    });
    apps.push(root);
    return root;
  }

  it('says there are no backups yet', async () => {
    const root = await sqliteApp();
    const result = await runKeel(root, 'db:backups');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No backups in var/backups');
    expect((await runKeel(root, 'db:backups', '--json')).json()).toEqual({
      directory: 'var/backups',
      backups: [],
    });
  });

  it('writes a timestamped migration that runs, and refuses bad names and modules', async () => {
    const root = await sqliteApp();
    const made = await runKeel(root, 'make:migration', 'shop', 'CreateShipmentsTable', '--json');
    expect(made.code).toBe(0);
    const output = made.json<MakeMigrationOutput>();
    expect(output.file).toMatch(
      /^modules\/shop\/migrations\/\d{4}_\d{2}_\d{2}_\d{6}_create_shipments_table\.ts$/,
    );
    expect(output.manifestNeedsMigrations).toBe(false);
    const source = await readFile(join(root, output.file), 'utf8');
    expect(source).toContain("createTable('shipments')");
    const alter = await runKeel(root, 'make:migration', 'shop', 'add-status-to-shipments');
    expect(alter.code).toBe(0);
    const files = await readdir(join(root, 'modules/shop/migrations'));
    const alterFile = files.find((f) => f.endsWith('_add_status_to_shipments.ts'))!;
    expect(await readFile(join(root, 'modules/shop/migrations', alterFile), 'utf8')).toContain(
      "alterTable('shipments')",
    );
    // Made in the same second, still in order.
    expect(alterFile > output.file.split('/').pop()!).toBe(true);
    const migrated = await runKeel(root, 'migrate', '--no-backup', '--json');
    expect(migrated.code).toBe(0);
    const tables = await runKeel(root, 'db:tables', '--json');
    expect(tables.json<DbTablesOutput>().tables.map((t) => t.name)).toContain('shipments');

    for (const bad of ['2fast', 'drop table; --', '../escape', 'café', '']) {
      const refused = await runKeel(root, 'make:migration', 'shop', bad);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('E_MIGRATION_NAME_INVALID');
    }
    expect((await runKeel(root, 'make:migration', 'shop', 'drop table')).stderr).toContain(
      'did you mean "drop_table"?',
    );
    const unknown = await runKeel(root, 'make:migration', 'shopp', 'create_x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'E_MODULE_NOT_FOUND: Unknown module "shopp". Did you mean "shop"?',
    );
  });

  it('creates the folder and says when the manifest does not name it', async () => {
    const root = await sqliteApp();
    await writeFiles(root, {
      'modules/crm/module.ts': `import { defineModule } from 'keel';\n\nexport default defineModule({ name: 'crm', version: '1.0.0' });\n`,
    });
    const made = await runKeel(root, 'make:migration', 'crm', 'create_contacts');
    expect(made.code).toBe(0);
    expect(made.stderr).toContain("add `migrations: 'migrations'` to modules/crm/module.ts");
    expect(existsSync(join(root, 'modules/crm/migrations'))).toBe(true);
  });
});
