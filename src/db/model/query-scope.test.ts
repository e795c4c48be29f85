import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../../test/support/fixture-app.js';
import { HttpProvider } from '../../http/index.js';
import { Application, createNullLogger, type Logger } from '../../kernel/index.js';
import { db } from '../database-manager.js';
import { DatabaseProvider } from '../db-provider.js';
import {
  Category,
  error,
  Order,
  OrderLine,
  Product,
  resetShop,
  useShopDatabase,
} from './__fixtures__/shop.js';
import { callSite, queryShape, trackQueries, withQueryScope } from './query-scope.js';
import { IN_CHUNK } from './relations.js';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger keeping its warnings (children log to the same list, like request loggers). */
function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const base = createNullLogger();
  const logger = Object.assign(Object.create(base) as Logger, {
    lines,
    warn: (obj: Record<string, unknown>, msg = '') => {
      lines.push({ level: 'warn', obj, msg });
    },
    child: () => logger,
  }) as Logger & { lines: Line[] };
  return logger;
}

describe('query shapes and call sites', () => {
  it('makes queries that differ only in values alike', () => {
    expect(queryShape('select * from "products" where "id" = $1')).toBe(
      queryShape('select * from "products" where "id" = $7'),
    );
    expect(queryShape("select * from t where a = 'x' and b = 42")).toBe(
      'select * from t where a = ? and b = ?',
    );
    expect(queryShape('select * from `t` where `id` in (?, ?, ?)')).toBe(
      'select * from `t` where `id` in (?)',
    );
    expect(queryShape('select * from "t1" where "c2" = ?')).toBe(
      'select * from "t1" where "c2" = ?',
    );
  });

  it('finds the first frame outside Keel and node_modules', () => {
    // Keel's own frames sit wherever this checkout is.
    const keel = fileURLToPath(new URL('../../', import.meta.url));
    const stack = [
      'Error',
      `    at detector (${keel}db/model/query-scope.ts:10:5)`,
      `    at async ModelQuery.all (${keel}db/model/model-query.ts:20:3)`,
      '    at async Kysely.execute (/app/node_modules/kysely/dist/esm/index.js:1:1)',
      '    at async node:internal/process/task_queues:95:5',
      '    at async listOrders (/app/modules/shop/routes.ts:12:7)',
    ].join('\n');
    expect(callSite(stack)).toBe('listOrders (/app/modules/shop/routes.ts:12:7)');
    expect(callSite('Error\n    at node:internal/x:1:1')).toBeUndefined();
  });
});

describeEachDialect('N+1 detection', (database, dialect) => {
  const shop = useShopDatabase(database, dialect, { nPlusOne: { mode: 'throw', threshold: 3 } });
  let logger: ReturnType<typeof recordingLogger>;

  beforeEach(async () => {
    await resetShop(shop().connection);
    logger = recordingLogger();
    const product = await Product.create({ sku: 'N1', name: 'x', price: '1' });
    for (let i = 0; i < 6; i++) {
      const order = await Order.create({ status: 'paid' });
      await OrderLine.create({ order_id: order.id, product_id: product.id, qty: i + 1 });
    }
  });

  async function lazyLoop(): Promise<void> {
    const orders = await Order.query().orderBy('id').all();
    for (const order of orders) await order.load('lines');
  }

  it('warns once, naming the model, the relation and the call site', async () => {
    await withQueryScope(lazyLoop, { mode: 'warn', threshold: 3, logger, name: 'GET /orders' });
    expect(logger.lines).toHaveLength(1);
    const [warning] = logger.lines;
    expect(warning!.msg).toMatch(/^N\+1 query: Order\.lines was loaded one model at a time/);
    expect(warning!.msg).toContain("Order.query().with('lines')");
    expect(warning!.msg).toContain('in GET /orders');
    expect(warning!.obj.nPlusOne).toMatchObject({
      model: 'Order',
      relation: 'lines',
      count: 4,
      threshold: 3,
      scope: 'GET /orders',
    });
    expect(String((warning!.obj.nPlusOne as { callSite: string }).callSite)).toMatch(
      /query-scope\.test\.ts:\d+:\d+/,
    );
  });

  it('fails the query in throw mode (the config’s mode by default)', async () => {
    const failure = await error(withQueryScope(lazyLoop));
    expect(failure).toMatchObject({ code: 'E_DB_N_PLUS_ONE', status: 500 });
    expect((failure as Error).message).toMatch(
      /Order\.lines was loaded one model at a time, more than 3 times/,
    );
  });

  it('names the model of a repeated query that no relation tagged', async () => {
    const ids = (await Product.query().all()).map((p) => p.id);
    await withQueryScope(
      async () => {
        for (let i = 0; i < 5; i++) await Product.find(ids[0]!);
      },
      { mode: 'warn', threshold: 3, logger },
    );
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]!.msg).toMatch(
      /the same query on Product \(products\) ran more than 3 times/,
    );
  });

  it('never reports eager loading, even with chunked IN lists', async () => {
    await withQueryScope(
      async () => {
        const orders = await Order.query().with('lines.product').all();
        expect(orders.every((o) => o.lines.length === 1)).toBe(true);
      },
      { mode: 'throw', threshold: 1 },
    );
    const rows = Array.from({ length: IN_CHUNK * 2 + 1 }, (_, i) => ({ name: `c${i}` }));
    for (let i = 0; i < rows.length; i += 500)
      await db()
        .insertInto('categories')
        .values(rows.slice(i, i + 500))
        .execute();
    const { report } = await trackQueries(() => Category.query().with('products').all(), {
      mode: 'throw',
      threshold: 1,
    });
    // The categories, then three IN chunks for their products: never counted as repeats.
    expect(report.total).toBe(4);
    expect(report.repeated).toEqual([]);
  });

  it('counts per scope: nothing outside one, and separate scopes start from zero', async () => {
    await lazyLoop();
    for (let i = 0; i < 2; i++)
      await withQueryScope(async () => {
        const orders = await Order.query().orderBy('id').limit(3).all();
        for (const order of orders) await order.load('lines');
      });
    const { result, report } = await trackQueries(
      async () => {
        await lazyLoop();
        return 'done';
      },
      { mode: 'off' },
    );
    expect(result).toBe('done');
    expect(report.total).toBe(7);
    expect(report.repeated).toEqual([
      expect.objectContaining({ count: 6, model: 'Order', relation: 'lines' }),
    ]);
  });

  it('refuses a bad threshold', async () => {
    await expect(withQueryScope(() => 1, { threshold: 0 })).rejects.toThrow(TypeError);
  });
});

describe('N+1 detection per HTTP request (DatabaseProvider middleware)', () => {
  const fixtures: FixtureApp[] = [];
  const apps: Application[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.shutdown()));
    await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
  });

  async function app(mode: string, env: Record<string, string> = {}) {
    const fixture = await createFixtureApp({
      'keel.config.ts': APP_FILE,
      'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } }, nPlusOne: { mode: '${mode}', threshold: 2 } };\n`,
      'modules/shop/module.ts': moduleFile(
        `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
      ),
      'modules/shop/routes.ts': `
export default (router, app) => {
  router.get('/n1', async () => {
    const connection = app.make('db').connection();
    for (let i = 0; i < 4; i++) await connection.selectFrom('items').selectAll().where('id', '=', i).execute();
    return { ok: true };
  });
};
`,
    });
    fixtures.push(fixture);
    const logger = recordingLogger();
    const application = await Application.create({
      root: fixture.root,
      environment: 'test',
      env: { LOG_LEVEL: 'silent', ...env },
      logger,
      providers: [HttpProvider, DatabaseProvider],
    });
    apps.push(application);
    await application.boot();
    await application
      .make('db')
      .connection()
      .schema.createTable('items')
      .addColumn('id', 'integer')
      .execute();
    await application.start();
    return { application, logger };
  }

  it('warns for a request repeating a query', async () => {
    const { application, logger } = await app('warn');
    const res = await application.make('http').inject('/n1');
    expect(res.statusCode).toBe(200);
    const warnings = logger.lines.filter((l) => l.msg.startsWith('N+1 query'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('in GET /n1');
    expect(warnings[0]!.msg).toContain('"items"');
    expect(warnings[0]!.msg).toMatch(/ at .*modules\/shop\/routes\.ts:\d+:\d+/);
  });

  it('fails the request in throw mode, and watches nothing in production', async () => {
    const { application } = await app('throw');
    const res = await application.make('http').inject('/n1');
    expect(res.statusCode).toBe(500);
    const production = await app('throw', {
      APP_ENV: 'production',
      APP_KEY: `base64:${Buffer.alloc(32, 1).toString('base64')}`,
    });
    const ok = await production.application.make('http').inject('/n1');
    expect(ok.statusCode).toBe(200);
    expect(production.logger.lines.filter((l) => l.msg.startsWith('N+1'))).toEqual([]);
  });
});
