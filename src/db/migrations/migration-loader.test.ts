import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defineMigration,
  isMigrationName,
  type Migration,
  migrationProblem,
  migrationTimestamp,
} from './migration.js';
import { collectMigrations, loadFolder } from './migration-loader.js';
import { MigrationRegistry } from './migration-registry.js';
import { isAlive, MigrationStateStore } from './migration-state.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-migrations-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

const MIGRATION = `export default { async up() {}, async down() {} };\n`;
const noop: Migration = defineMigration({ up() {} });

describe('migration names', () => {
  it('accepts <YYYY_MM_DD_HHMMSS>_<snake_name> only', () => {
    expect(isMigrationName('2024_05_01_120000_create_orders')).toBe(true);
    for (const bad of [
      '2024_05_01_120000',
      '2024_05_01_120000_Create_orders',
      '2024_05_01_1200_create_orders',
      'create_orders',
      '2024_05_01_120000_create-orders',
      '2024_05_01_120000_../../etc',
      `2024_05_01_120000_${'a'.repeat(200)}`,
    ])
      expect(isMigrationName(bad)).toBe(false);
    expect(migrationTimestamp(new Date(Date.UTC(2024, 4, 1, 9, 5, 7)))).toBe('2024_05_01_090507');
  });

  it('says what is wrong with a value that is not a migration', () => {
    expect(migrationProblem(undefined)).toMatch(/default export/);
    expect(migrationProblem({ up: 1 })).toMatch(/up/);
    expect(migrationProblem({ up() {}, down: 'x' })).toMatch(/down/);
    expect(migrationProblem({ up() {}, connection: '' })).toMatch(/connection/);
    expect(migrationProblem({ up() {}, transactional: 'yes' })).toMatch(/transactional/);
    expect(migrationProblem({ up() {}, connection: 'reporting', transactional: false })).toBe(
      undefined,
    );
  });
});

describe('collectMigrations', () => {
  it('orders by name across framework sources and modules, ties by source order', async () => {
    const core = await folder({
      'migrations/2024_01_02_000000_create_orders.ts': MIGRATION,
      'migrations/2024_01_01_000000_create_users.ts': MIGRATION,
      // Helpers, tests and type declarations beside migrations are not migrations.
      'migrations/2024_01_01_000000_create_users.test.ts': 'throw new Error("not loaded")',
      'migrations/types.d.ts': '',
      'migrations/README.md': '# notes',
    });
    const billing = await folder({
      'db/2024_01_01_000000_create_users.ts': MIGRATION,
      'db/2024_01_03_000000_create_invoices.ts': `export default { up() {}, connection: 'reporting' };\n`,
    });
    const registry = new MigrationRegistry()
      .add({ module: 'keel:cache', migrations: { '2024_01_02_000000_create_orders': noop } })
      .add({
        module: 'keel:queue',
        migrations: { '2023_12_31_000000_create_jobs': noop },
        connection: 'queue',
      });
    const entries = await collectMigrations({
      modules: [
        { manifest: { name: 'core', migrations: 'migrations' }, dir: core },
        { manifest: { name: 'billing', migrations: 'db' }, dir: billing },
        { manifest: { name: 'no-migrations' }, dir: core },
        { manifest: { name: 'missing-folder', migrations: 'nope' }, dir: core },
      ],
      registry,
      defaultConnection: 'default',
    });
    expect(entries.map((e) => [e.name, e.module, e.connection])).toEqual([
      ['2023_12_31_000000_create_jobs', 'keel:queue', 'queue'],
      ['2024_01_01_000000_create_users', 'core', 'default'],
      ['2024_01_01_000000_create_users', 'billing', 'default'],
      ['2024_01_02_000000_create_orders', 'keel:cache', 'default'],
      ['2024_01_02_000000_create_orders', 'core', 'default'],
      ['2024_01_03_000000_create_invoices', 'billing', 'reporting'],
    ]);
    expect(entries[1]!.file).toBe(join(core, 'migrations/2024_01_01_000000_create_users.ts'));
    expect(entries[0]!.file).toBeUndefined();
  });

  it('a registry keeps one source per module, and framework folders load like modules', async () => {
    const dir = await folder({ '2024_01_01_000000_create_cache.ts': MIGRATION });
    const registry = new MigrationRegistry()
      .add({ module: 'keel:cache', migrations: {} })
      .add({ module: 'keel:cache', folder: dir });
    expect(registry.sources()).toHaveLength(1);
    const entries = await collectMigrations({ modules: [], registry, defaultConnection: 'main' });
    expect(entries.map((e) => [e.name, e.module])).toEqual([
      ['2024_01_01_000000_create_cache', 'keel:cache'],
    ]);
  });

  it('prefers compiled JavaScript to TypeScript of the same name', async () => {
    const dir = await folder({
      '2024_01_01_000000_create_users.ts': 'export default { up() {}, transactional: true };\n',
      '2024_01_01_000000_create_users.js': 'export default { up() {}, transactional: false };\n',
    });
    const loaded = await loadFolder(dir);
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.file).toMatch(/\.js$/);
    expect(loaded[0]!.migration.transactional).toBe(false);
  });

  it('refuses misnamed files, broken imports and exports that are not migrations', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'create_users.ts': MIGRATION }, /file name must be/],
      [{ '2024_01_01_000000_Users.ts': MIGRATION }, /file name must be/],
      [{ '2024_01_01_000000_create_users.ts': 'export default {' }, /cannot be imported/],
      [{ '2024_01_01_000000_create_users.ts': 'export const up = () => {};\n' }, /default export/],
      [{ '2024_01_01_000000_create_users.ts': 'export default { down() {} };\n' }, /`up`/],
    ];
    for (const [files, reason] of cases) {
      const dir = await folder(files);
      const error = await loadFolder(dir).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_MIGRATION_INVALID', status: 500 });
      expect((error as Error).message).toMatch(reason);
    }
    const bad = new MigrationRegistry().add({ module: 'keel:x', migrations: { not_a_name: noop } });
    await expect(
      collectMigrations({ modules: [], registry: bad, defaultConnection: 'main' }),
    ).rejects.toMatchObject({ code: 'E_MIGRATION_INVALID' });
    const shapeless = new MigrationRegistry().add({
      module: 'keel:x',
      migrations: { '2024_01_01_000000_x': { up: 'no' } as never },
    });
    await expect(
      collectMigrations({ modules: [], registry: shapeless, defaultConnection: 'main' }),
    ).rejects.toMatchObject({ code: 'E_MIGRATION_INVALID' });
  });
});

describe('MigrationStateStore', () => {
  it('records running and UNSAFE states per connection, atomically written', async () => {
    const dir = await folder({});
    const store = new MigrationStateStore(join(dir, 'state', 'migrations.json'));
    expect(await store.read()).toEqual({});
    await store.markRunning({
      migration: 'm',
      module: 'app',
      connection: 'main',
      direction: 'up',
      transactional: true,
    });
    const running = (await store.get('main')).running!;
    expect(running).toMatchObject({ pid: process.pid, host: hostname() });
    expect(isAlive(running)).toBe(true);
    expect(isAlive({ ...running, pid: 4_194_305 })).toBe(false);
    // Another machine's process cannot be checked: it counts as alive.
    expect(isAlive({ ...running, host: `${hostname()}-other`, pid: 4_194_305 })).toBe(true);
    await store.clearRunning('main');
    expect(await store.read()).toEqual({});
    await store.markUnsafe({
      reason: 'failed',
      migration: 'm',
      module: 'app',
      connection: 'other',
      direction: 'down',
      error: 'boom',
      changes: 'partial',
    });
    await expect(store.assertSafe('other')).rejects.toMatchObject({
      code: 'E_DB_UNSAFE',
      message: expect.stringMatching(
        /m \(app, down\) failed at .*: boom; its changes may be partly applied/,
      ),
    });
    await store.assertSafe('main');
    await store.reset('other');
    expect(await store.read()).toEqual({});
    await store.reset();
    await store.reset();
  });

  it('refuses a file it did not write, and reset recovers from it', async () => {
    const dir = await folder({ 'bad.json': '{ not json', 'shape.json': '{"connections": []}' });
    for (const name of ['bad.json', 'shape.json']) {
      const store = new MigrationStateStore(join(dir, name));
      await expect(store.read()).rejects.toMatchObject({ code: 'E_MIGRATION_STATE_INVALID' });
      await store.reset('main');
      expect(await store.read()).toEqual({});
    }
  });
});
