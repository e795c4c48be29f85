import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE_APP_KEY, writeFiles } from '../../../modules/commands/__fixtures__/cli-fixture.js';
import type { ConnectionConfig } from '../../config.js';

/** A migration file (run in-process, where `keel/db` resolves to the source). */
export function createTableMigration(table: string): string {
  return `import { defineMigration, increments, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema.createTable('${table}').$call(increments(db)).addColumn('name', 'varchar(100)').$call(timestamps(db)).execute();
  },
  async down(db) {
    await db.schema.dropTable('${table}').execute();
  },
});
`;
}

export const FAILING_MIGRATION = `export default {
  async up(db) {
    await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
    throw new Error('ledger locked');
  },
};
`;

export const PRODUCTS = '2024_01_01_000000_create_products';
export const ORDERS = '2024_01_02_000000_create_orders';

/**
 * An app on `connection` (as connection `main`) with module `shop` holding two
 * migrations, products and orders; `files` are written over it.
 */
export async function makeDbApp(
  connection: ConnectionConfig,
  files: Record<string, string> = {},
  env = 'development',
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'keel-db-app-'));
  await writeFiles(root, {
    'package.json': '{ "type": "module" }\n',
    '.env': `APP_ENV=${env}\nAPP_KEY=${FIXTURE_APP_KEY}\nLOG_LEVEL=warn\n`,
    'keel.config.ts': `import { defineApp } from 'keel';\n\nexport default defineApp({ name: 'Shop', version: '1.0.0' });\n`,
    'config/database.ts': `export default ${JSON.stringify({
      default: 'main',
      connections: { main: connection },
      backups: { path: 'var/backups', keep: 3 },
    })};\n`,
    // The queue's framework tables would join every migration run here: these tests are
    // about the migrator, so the fixture keeps its queue in memory.
    'config/queue.ts': `export default { default: 'memory' };\n`,
    'modules/shop/module.ts': `import { defineModule } from 'keel';\n\nexport default defineModule({ name: 'shop', version: '1.0.0', migrations: 'migrations' });\n`,
    [`modules/shop/migrations/${PRODUCTS}.ts`]: createTableMigration('products'),
    [`modules/shop/migrations/${ORDERS}.ts`]: createTableMigration('orders'),
    ...files,
  });
  return root;
}

export async function removeDbApp(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}
