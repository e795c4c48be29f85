import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/index.js';
import { sample } from './__fixtures__/exposition.js';
import { MetricsProvider } from './metrics-provider.js';

const apps = providerApps([DatabaseProvider, MetricsProvider]);

describeEachDialect('database metrics', (database, dialect) => {
  it('counts statements by connection and operation, errors and slow ones, and reads pool usage', async () => {
    const config = { ...database().config };
    const app = await apps.create({
      'config/database.ts': `export default { slowQueryMs: 0.000001, connections: { main: ${JSON.stringify(config)} }, default: 'main' };\n`,
    });
    await app.boot();
    const connection = app.make('db').connection();
    await connection.kysely.schema.createTable('metric_rows').addColumn('id', 'integer').execute();
    await connection.kysely
      .insertInto('metric_rows' as never)
      .values({ id: 1 } as never)
      .execute();
    await connection.kysely
      .selectFrom('metric_rows' as never)
      .selectAll()
      .execute();
    await connection.kysely
      .selectFrom('metric_rows' as never)
      .selectAll()
      .execute();
    await expect(
      sql`select * from no_such_table_here`.execute(connection.kysely),
    ).rejects.toThrow();
    const text = await app.make('metrics').metrics();
    const labels = (operation: string) => ({ connection: 'main', operation });
    expect(sample(text, 'keel_db_queries_total', labels('insert'))).toBe(1);
    expect(sample(text, 'keel_db_queries_total', labels('select'))).toBe(3);
    expect(sample(text, 'keel_db_queries_total', labels('ddl'))).toBe(1);
    expect(sample(text, 'keel_db_query_errors_total', labels('select'))).toBe(1);
    expect(sample(text, 'keel_db_query_errors_total', labels('insert'))).toBe(0);
    expect(sample(text, 'keel_db_query_duration_seconds_count', labels('select'))).toBe(3);
    // Every statement is over a threshold of a nanosecond.
    expect(sample(text, 'keel_db_slow_queries_total', { connection: 'main' })).toBe(5);
    if (dialect === 'sqlite') {
      expect(sample(text, 'keel_db_pool_connections')).toBeUndefined();
    } else {
      expect(
        sample(text, 'keel_db_pool_connections', { connection: 'main' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(text, 'keel_db_pool_idle_connections', { connection: 'main' }),
      ).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'keel_db_pool_waiting_requests', { connection: 'main' })).toBe(0);
    }
    await connection.kysely.schema.dropTable('metric_rows').execute();
  }, 30_000);
});

describe('database metrics without a database', () => {
  it('registers no database metrics when the app has no DatabaseProvider', async () => {
    const app = await apps.create({}, {}, [MetricsProvider]);
    await app.boot();
    expect(app.make('metrics').get('db_queries_total')).toBeUndefined();
    expect(await app.make('metrics').metrics()).toContain('keel_process_cpu_user_seconds_total');
  });
});
