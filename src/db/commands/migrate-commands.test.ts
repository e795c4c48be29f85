import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeEachDialect, useEmptyDatabase } from '../../../test/support/databases.js';
import { ENV_KEYS, runKeel } from '../../modules/commands/__fixtures__/cli-fixture.js';
import {
  createTableMigration,
  FAILING_MIGRATION,
  makeDbApp,
  ORDERS,
  PRODUCTS,
  removeDbApp,
} from './__fixtures__/db-app.js';
import type { FreshOutput, MigrateOutput } from './index.js';
import { confirmProduction, parseStep } from './migrate-commands.js';
import type { ConnectionStatus } from './migrate-status-command.js';

const apps: string[] = [];
beforeEach(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(apps.splice(0).map(removeDbApp));
});

async function backupFiles(root: string): Promise<string[]> {
  const dir = join(root, 'var/backups');
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

describeEachDialect('migrate commands', (database, dialect) => {
  // Every test starts from an empty database.
  useEmptyDatabase(database);

  async function app(files: Record<string, string> = {}, env?: string): Promise<string> {
    const root = await makeDbApp(database().config, files, env);
    apps.push(root);
    return root;
  }

  async function status(root: string): Promise<ConnectionStatus[]> {
    const result = await runKeel(root, 'migrate:status', '--json');
    expect(result.code).toBe(0);
    return result.json<{ connections: ConnectionStatus[] }>().connections;
  }

  it('migrate backs up, runs the pending migrations as a batch, and does nothing the second time', async () => {
    const root = await app();
    const result = await runKeel(root, 'migrate', '--json');
    expect(result.code).toBe(0);
    const output = result.json<MigrateOutput>();
    expect(output.dryRun).toBe(false);
    expect(output.connections).toHaveLength(1);
    const main = output.connections[0]!;
    expect(main).toMatchObject({ connection: 'main', dialect, direction: 'up' });
    expect(main.migrations.map((m) => [m.name, m.module, m.batch])).toEqual([
      [PRODUCTS, 'shop', 1],
      [ORDERS, 'shop', 1],
    ]);
    expect(main.backup?.file).toMatch(
      /^var\/backups\/backup_main_\d{8}_\d{6}_\d{3}\.(sqlite|dump|sql)$/,
    );
    expect(main.backup!.bytes).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/backup var\/backups\/backup_main_.* \(\d+(\.\d)? (B|KB)\)/);
    expect(await backupFiles(root)).toHaveLength(1);

    const [state] = await status(root);
    expect(state).toMatchObject({ connection: 'main', state: 'ok' });
    expect(state!.migrations.map((m) => [m.name, m.status, m.batch])).toEqual([
      [PRODUCTS, 'ran', 1],
      [ORDERS, 'ran', 1],
    ]);

    const again = await runKeel(root, 'migrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('main: nothing to migrate');
    // Nothing pending: no backup either.
    expect(await backupFiles(root)).toHaveLength(1);

    const text = await runKeel(root, 'migrate:status');
    expect(text.stdout).toMatch(/main .*: 2 ran, 0 pending/);
    expect(text.stdout).toMatch(new RegExp(`${PRODUCTS}\\s+shop\\s+ran\\s+1`));
  });

  it('--dry-run prints the SQL and runs nothing; --no-backup skips the backup; --step runs the next N', async () => {
    const root = await app();
    const plan = await runKeel(root, 'migrate', '--dry-run');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('main: would run 2 migrations');
    expect(plan.stdout).toMatch(/create table .?products/i);
    expect((await status(root))[0]!.migrations.every((m) => m.status === 'pending')).toBe(true);
    expect(await backupFiles(root)).toEqual([]);

    const one = await runKeel(root, 'migrate', '--step', '1', '--no-backup', '--json');
    expect(one.code).toBe(0);
    expect(one.json<MigrateOutput>().connections[0]!.migrations.map((m) => m.name)).toEqual([
      PRODUCTS,
    ]);
    expect(one.json<MigrateOutput>().connections[0]!.backup).toBeNull();
    expect(await backupFiles(root)).toEqual([]);
    expect((await runKeel(root, 'migrate', '--step', '--no-backup')).code).toBe(0);
    expect((await status(root))[0]!.migrations.map((m) => m.batch)).toEqual([1, 2]);
  });

  it('migrate:rollback undoes the last batch, or the last N with --step', async () => {
    const root = await app();
    await runKeel(root, 'migrate', '--no-backup');
    const plan = await runKeel(root, 'migrate:rollback', '--dry-run');
    expect(plan.stdout).toContain('main: would roll back 2 migrations');
    expect(plan.stdout).toMatch(/drop table .?orders/i);
    const one = await runKeel(root, 'migrate:rollback', '--step', '1', '--json');
    expect(one.code).toBe(0);
    expect(
      one.json<MigrateOutput>().connections[0]!.migrations.map((m) => [m.name, m.direction]),
    ).toEqual([[ORDERS, 'down']]);
    const rest = await runKeel(root, 'migrate:rollback');
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain('main: 1 migration rolled back');
    expect((await runKeel(root, 'migrate:rollback')).stdout).toContain(
      'main: nothing to roll back',
    );
  });

  it('a failing migration marks the database UNSAFE until migrate:reset-state --force', async () => {
    const failing = `modules/shop/migrations/2024_01_03_000000_create_half_done_${dialect}.ts`;
    const root = await app({ [failing]: FAILING_MIGRATION });
    const failed = await runKeel(root, 'migrate', '--no-backup');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('E_MIGRATION_FAILED');
    expect(failed.stderr).toContain('ledger locked');
    expect(failed.stderr).toContain(
      dialect === 'mysql' ? 'may be partly applied' : 'were rolled back',
    );

    const refused = await runKeel(root, 'migrate');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('E_DB_UNSAFE: Database connection "main" is UNSAFE');
    expect(refused.stdout).toContain('help: Check the schema first');
    expect(await backupFiles(root)).toEqual([]);
    const [state] = await status(root);
    expect(state).toMatchObject({
      state: 'unsafe',
      unsafe: { reason: 'failed', error: 'ledger locked' },
    });
    expect((await runKeel(root, 'migrate:status')).stderr).toContain(
      'UNSAFE: 2024_01_03_000000_create_half_done',
    );

    // Without --force and without a terminal to confirm on, nothing is cleared.
    const asked = await runKeel(root, 'migrate:reset-state');
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain('Nothing cleared');
    const reset = await runKeel(root, 'migrate:reset-state', '--force', '--json');
    expect(reset.code).toBe(0);
    expect(reset.json<{ cleared: string[] }>().cleared).toEqual(['main']);
    expect((await runKeel(root, 'migrate:reset-state', '--force')).stdout).toContain(
      'nothing to reset',
    );

    await rm(join(root, failing));
    // MySQL committed the failed migration's table: that schema needs repair first.
    if (dialect === 'mysql') expect((await runKeel(root, 'migrate:fresh')).code).toBe(0);
    expect((await runKeel(root, 'migrate')).code).toBe(0);
  });

  it('a damaged state file stops migrate and reset-state repairs it', async () => {
    const root = await app({ 'var/state/migrations.json': '{"connections": 1' });
    const refused = await runKeel(root, 'migrate');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('E_MIGRATION_STATE_INVALID');
    expect((await runKeel(root, 'migrate:reset-state', '--force')).code).toBe(0);
    expect((await runKeel(root, 'migrate', '--no-backup')).code).toBe(0);
  });

  it('migrate:fresh drops everything and migrates again', async () => {
    const root = await app();
    await runKeel(root, 'migrate', '--no-backup');
    const fresh = await runKeel(root, 'migrate:fresh', '--json');
    expect(fresh.code).toBe(0);
    const output = fresh.json<FreshOutput>();
    expect(output.dropped.sort()).toEqual(['keel_migrations', 'orders', 'products']);
    expect(output.migrations).toHaveLength(2);
    expect(output.backup).toBeNull();
    expect((await runKeel(root, 'migrate:fresh')).stdout).toMatch(
      /main: dropped 3 tables, ran 2 migrations/,
    );
  });

  it('refuses bad options with their codes', async () => {
    const root = await app();
    const step = await runKeel(root, 'migrate', '--step', '0');
    expect(step.code).toBe(1);
    expect(step.stderr).toContain('E_MIGRATE_OPTION_INVALID: Invalid --step "0"');
    const rollback = await runKeel(root, 'migrate:rollback', '--step', 'two');
    expect(rollback.stderr).toContain('E_MIGRATE_OPTION_INVALID');
    const connection = await runKeel(root, 'migrate', '--connection', 'mian');
    expect(connection.code).toBe(1);
    expect(connection.stderr).toContain('E_DB_CONNECTION_NOT_FOUND');
    expect(connection.stderr).toContain('did you mean "main"?');
    const badFile = await app({
      'modules/shop/migrations/create_things.ts': createTableMigration('things'),
    });
    const invalid = await runKeel(badFile, 'migrate:status');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('E_MIGRATION_INVALID');
  });

  it('migrates every connection a migration names, framework sources before modules', async () => {
    const root = await app({
      'config/database.ts': `export default ${JSON.stringify({
        default: 'main',
        connections: {
          main: database().config,
          aux: { driver: 'sqlite', filename: 'var/data/aux.sqlite' },
        },
      })};\n`,
      'modules/shop/migrations/2024_01_03_000000_create_audit.ts': `export default {
  connection: 'aux',
  async up(db) { await db.schema.createTable('audit').addColumn('id', 'integer').execute(); },
  async down(db) { await db.schema.dropTable('audit').execute(); },
};\n`,
      'modules/shop/module.ts': `import { defineModule } from 'keel';

export default defineModule({
  name: 'shop',
  version: '1.0.0',
  migrations: 'migrations',
  providers: async () => [(await import('./provider.js')).ShopProvider],
});
`,
      // A subsystem's provider adds its framework tables to the registry.
      'modules/shop/provider.ts': `import { ServiceProvider } from 'keel';

export class ShopProvider extends ServiceProvider {
  register() {
    this.app.make('db.migrations').add({
      module: 'keel:test',
      migrations: {
        '2024_01_01_000000_create_framework_table': {
          async up(db) { await db.schema.createTable('framework_table').addColumn('id', 'integer').execute(); },
          async down(db) { await db.schema.dropTable('framework_table').execute(); },
        },
      },
    });
  }
}
`,
    });
    const result = await runKeel(root, 'migrate', '--json');
    expect(result.code).toBe(0);
    const output = result.json<MigrateOutput>();
    expect(
      output.connections.map((c) => [
        c.connection,
        c.migrations.map((m) => `${m.module}:${m.name}`),
      ]),
    ).toEqual([
      [
        'main',
        [
          'keel:test:2024_01_01_000000_create_framework_table',
          `shop:${PRODUCTS}`,
          `shop:${ORDERS}`,
        ],
      ],
      ['aux', ['shop:2024_01_03_000000_create_audit']],
    ]);
    // Each connection is backed up before its own migrations.
    expect(output.connections.every((c) => c.backup !== null)).toBe(true);
    const aux = await runKeel(root, 'migrate:status', '--connection', 'aux', '--json');
    expect(aux.json<{ connections: ConnectionStatus[] }>().connections).toMatchObject([
      { connection: 'aux', dialect: 'sqlite', migrations: [{ status: 'ran', batch: 1 }] },
    ]);
    const rolled = await runKeel(root, 'migrate:rollback', '--connection', 'aux', '--json');
    expect(rolled.json<MigrateOutput>().connections[0]!.migrations).toHaveLength(1);
    const tables = await runKeel(root, 'db:tables', '--connection', 'aux', '--json');
    expect(tables.json<{ tables: Array<{ name: string }> }>().tables.map((t) => t.name)).toEqual([
      'keel_migrations',
    ]);
  });

  it('production: migrate, rollback and fresh need --force', async () => {
    const root = await app({}, 'development');
    expect((await runKeel(root, 'compile')).code).toBe(0);
    await writeFile(
      join(root, '.env'),
      (await readFile(join(root, '.env'), 'utf8')).replace(
        'APP_ENV=development',
        'APP_ENV=production',
      ),
    );
    const refused = await runKeel(root, 'migrate');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'E_MIGRATE_IN_PRODUCTION: Refusing to run migrate on the production database without --force',
    );
    expect((await runKeel(root, 'migrate', '--dry-run')).code).toBe(0);
    expect((await runKeel(root, 'migrate', '--force', '--no-backup')).code).toBe(0);
    expect((await runKeel(root, 'migrate:rollback')).stderr).toContain('E_MIGRATE_IN_PRODUCTION');
    expect((await runKeel(root, 'migrate:fresh')).stderr).toContain('E_MIGRATE_IN_PRODUCTION');
    const fresh = await runKeel(root, 'migrate:fresh', '--force', '--json');
    expect(fresh.code).toBe(0);
    // Forced in production, fresh keeps a copy of what it drops.
    expect(fresh.json<FreshOutput>().backup?.file).toMatch(/^var\/backups\/backup_main_/);
  });
});

describe('migrate command helpers', () => {
  it('parses --step', () => {
    expect(parseStep(undefined, true)).toBeUndefined();
    expect(parseStep(true, true)).toBe(true);
    expect(parseStep('3', true)).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'x', '', '9'.repeat(20)])
      expect(() => parseStep(bad, true)).toThrow(
        expect.objectContaining({ code: 'E_MIGRATE_OPTION_INVALID' }),
      );
    expect(() => parseStep(true, false)).toThrow(
      expect.objectContaining({ code: 'E_MIGRATE_OPTION_INVALID' }),
    );
  });

  it('asks before changing production, and refuses without a yes', async () => {
    const app = (isProduction: boolean) => ({ env: { isProduction } }) as never;
    const ui = (answer: boolean) => ({ confirm: vi.fn(async () => answer) }) as never;
    await confirmProduction(app(false), 'migrate', undefined, ui(false));
    await confirmProduction(app(true), 'migrate', true, ui(false));
    await confirmProduction(app(true), 'migrate', undefined, ui(true));
    await expect(
      confirmProduction(app(true), 'migrate:rollback', undefined, ui(false)),
    ).rejects.toMatchObject({
      code: 'E_MIGRATE_IN_PRODUCTION',
      details: { command: 'migrate:rollback' },
    });
  });
});
