import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { createNullLogger } from '../../kernel/index.js';
import {
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import { Connection } from '../connection.js';
import { discoverSeeders, selectSeeder } from './seeder-runner.js';

const CORE_MODULE = `import { defineModule } from 'keel';

export default defineModule({ name: 'core', version: '1.0.0', seeders: 'seeders' });
`;

const BILLING_MODULE = `import { defineModule } from 'keel';

export default defineModule({ name: 'billing', version: '2.0.0', dependsOn: { core: '^1.0.0' }, seeders: 'seeders' });
`;

const seeder = (body: string) => `import { defineSeeder } from 'keel/db';

export default defineSeeder(${body});
`;

const FILES: Record<string, string> = {
  'modules/core/module.ts': CORE_MODULE,
  'modules/billing/module.ts': BILLING_MODULE,
  'modules/reports/module.ts': `import { defineModule } from 'keel';\nexport default defineModule({ name: 'reports', version: '0.1.0' });\n`,
  'modules/core/seeders/a-currencies.ts': seeder(`{
    async run({ insertMissing, db }) {
      await insertMissing('seed_log', [{ code: 'EUR', note: "it's \\"quoted\\"; DROP TABLE seed_log; --" }, { code: 'USD', note: null }], 'code');
      await db.insertInto('seed_runs').values({ seeder: 'core:a-currencies' }).execute();
    },
  }`),
  'modules/core/seeders/b-demo.ts': seeder(`{
    environments: ['demo'],
    async run({ insertMissing }) {
      await insertMissing('seed_log', [{ code: 'DEMO', note: 'only in demo' }], 'code');
    },
  }`),
  'modules/core/seeders/notes.md': 'not a seeder\n',
  'modules/core/seeders/helper.test.ts': 'not a seeder either\n',
  'modules/billing/seeders/invoices.ts': seeder(`{
    async run({ insertMissing, db }) {
      await insertMissing('seed_log', [{ code: 'INV-1', note: 'needs EUR' }], ['code']);
      await db.insertInto('seed_runs').values({ seeder: 'billing:invoices' }).execute();
    },
  }`),
};

describeEachDialect('db:seed', (database) => {
  let root: string;
  let connection: Connection;

  beforeAll(async () => {
    const config = database().config;
    root = await makeFixtureApp({
      ...FILES,
      'config/database.ts': `export default ${JSON.stringify({ connections: { default: config } })};\n`,
    });
    // The fixture's `core` module from the shared fixture has migrations: replace it.
    connection = new Connection({ name: 'setup', config, root, logger: createNullLogger() });
    await connection.schema
      .createTable('seed_log')
      .addColumn('code', 'varchar(20)', (c) => c.primaryKey())
      .addColumn('note', 'varchar(200)')
      .execute();
    await connection.schema
      .createTable('seed_runs')
      .addColumn('seeder', 'varchar(100)', (c) => c.notNull())
      .execute();
  });

  afterAll(async () => {
    await connection?.close();
    if (root) await removeFixtureApp(root);
  });

  it('runs every seeder in module order, skips other environments, and is idempotent', async () => {
    const first = await runKeel(root, 'db:seed', '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.json<{ seeders: Array<{ id: string; status: string }> }>().seeders).toEqual([
      expect.objectContaining({ id: 'core:a-currencies', status: 'ran' }),
      expect.objectContaining({ id: 'core:b-demo', status: 'skipped', reason: 'only for demo' }),
      expect.objectContaining({ id: 'billing:invoices', status: 'ran' }),
    ]);
    expect((await runKeel(root, 'db:seed')).code).toBe(0);
    const rows = await connection.selectFrom('seed_log').selectAll().orderBy('code').execute();
    expect(rows).toEqual([
      { code: 'EUR', note: 'it\'s "quoted"; DROP TABLE seed_log; --' },
      { code: 'INV-1', note: 'needs EUR' },
      { code: 'USD', note: null },
    ]);
    const runs = await connection.selectFrom('seed_runs').select('seeder').execute();
    expect(runs).toHaveLength(4);
  });

  it('runs one seeder with --class, by id or by a loose file name', async () => {
    await connection.deleteFrom('seed_runs').execute();
    expect((await runKeel(root, 'db:seed', '--class', 'billing:invoices')).code).toBe(0);
    expect((await runKeel(root, 'db:seed', '--class', 'Invoices')).code).toBe(0);
    const runs = await connection.selectFrom('seed_runs').select('seeder').execute();
    expect(runs.map((r: { seeder: string }) => r.seeder)).toEqual([
      'billing:invoices',
      'billing:invoices',
    ]);
  });

  it('rolls back a failing seeder and stops the run', async () => {
    const failing = await makeFixtureApp({
      ...FILES,
      'config/database.ts': `export default ${JSON.stringify({ connections: { default: database().config } })};\n`,
      'modules/core/seeders/a-currencies.ts': seeder(`{
        async run({ db }) {
          await db.insertInto('seed_runs').values({ seeder: 'half-done' }).execute();
          throw new Error('seed data invalid');
        },
      }`),
    });
    try {
      const result = await runKeel(failing, 'db:seed');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('seed data invalid');
      const half = await connection
        .selectFrom('seed_runs')
        .select('seeder')
        .where('seeder', '=', 'half-done')
        .execute();
      expect(half).toEqual([]);
    } finally {
      await removeFixtureApp(failing);
    }
  });
});

describe('db:seed refusals and make:seeder', () => {
  let root: string;

  beforeAll(async () => {
    root = await makeFixtureApp({
      ...FILES,
      'modules/reports/seeders/invoices.ts': seeder('{ run() {} }'),
      'modules/reports/module.ts': `import { defineModule } from 'keel';\nexport default defineModule({ name: 'reports', version: '0.1.0', seeders: 'seeders' });\n`,
      'modules/billing/seeders/not-a-seeder.ts': 'export default { run() {} };\n',
    });
  });

  afterAll(async () => {
    await removeFixtureApp(root);
  });

  it('refuses production without --force', async () => {
    const prod = await makeFixtureApp({
      ...FILES,
      '.env':
        'APP_ENV=production\nAPP_DEBUG=false\nAPP_KEY=base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
    });
    try {
      // Production boots from compiled artifacts only.
      expect((await runKeel(prod, 'compile')).code).toBe(0);
      const refused = await runKeel(prod, 'db:seed');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('E_SEED_IN_PRODUCTION');
    } finally {
      await removeFixtureApp(prod);
    }
  });

  it('names unknown and ambiguous seeders, and files that are not seeders', async () => {
    const files = await discoverSeeders([
      { dir: join(root, 'modules/core'), manifest: { name: 'core', seeders: 'seeders' } },
      { dir: join(root, 'modules/billing'), manifest: { name: 'billing', seeders: 'seeders' } },
      { dir: join(root, 'modules/reports'), manifest: { name: 'reports', seeders: 'seeders' } },
      { dir: join(root, 'modules/none'), manifest: { name: 'none' } },
    ]);
    expect(files.map((f) => f.id)).toEqual([
      'core:a-currencies',
      'core:b-demo',
      'billing:invoices',
      'billing:not-a-seeder',
      'reports:invoices',
    ]);
    expect(() => selectSeeder(files, 'invoice')).toThrow(
      expect.objectContaining({
        code: 'E_SEEDER_NOT_FOUND',
        message: expect.stringContaining('did you mean "invoices"'),
      }),
    );
    expect(() => selectSeeder(files, 'invoices')).toThrow(
      expect.objectContaining({ code: 'E_SEEDER_AMBIGUOUS' }),
    );
    expect(selectSeeder(files, 'reports:invoices').module).toBe('reports');
    const invalid = await runKeel(root, 'db:seed', '--class', 'billing:not-a-seeder');
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('E_SEEDER_INVALID');
  });

  it('make:seeder writes a template, refuses bad names, unknown modules and existing files', async () => {
    const made = await runKeel(root, 'make:seeder', 'reports', 'DemoOrders');
    expect(made.code).toBe(0);
    const file = join(root, 'modules/reports/seeders/demo-orders.ts');
    expect(await readFile(file, 'utf8')).toContain('defineSeeder');
    expect((await runKeel(root, 'make:seeder', 'reports', 'DemoOrders')).code).toBe(1);
    const bad = await runKeel(root, 'make:seeder', 'core', '../escape');
    expect(bad.stderr).toContain('E_SEEDER_NAME_INVALID');
    const unknown = await runKeel(root, 'make:seeder', 'reprots', 'x');
    expect(unknown.stderr).toContain('E_MODULE_NOT_FOUND');
    expect(unknown.stderr).toContain('reports');
  });
});
