import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { db } from 'keel/db';
import {
  createApplicationLogger,
  type LogChannels,
  type LoggingConfig,
  resolveEnvRefs,
  resolveLoggingConfig,
} from 'keel/kernel';
import { createTestApp, type TestApp } from 'keel/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import loggingConfig from './config/logging.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/** A token for a seeded user, issued directly (the HTTP login path is tested on its own). */
async function tokenFor(t: TestApp, email: string): Promise<string> {
  const user = await db()
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  return (await t.app.make('auth.tokens').create(user, 'tests')).token;
}

/**
 * The API needs a bearer token: make `t.inject` act as the seeded admin unless a request
 * sends its own Authorization header (the security tests do). Returns the untouched inject.
 */
async function actAsAdmin(t: TestApp): Promise<TestApp['inject']> {
  const adminToken = await tokenFor(t, 'admin@erp.test');
  const inject = t.inject.bind(t);
  t.inject = (request) => {
    const options = typeof request === 'string' ? { url: request } : request;
    return inject({
      ...options,
      headers: { authorization: `Bearer ${adminToken}`, ...options.headers },
    });
  };
  return inject;
}

describe('demo ERP', () => {
  let t: TestApp;
  beforeEach(async () => {
    // A fresh in-memory SQLite database per test, migrated and seeded like `npm start` does.
    t = await createTestApp(root, {
      processEnv: { APP_ENV: 'test', DB_FILENAME: ':memory:' },
      database: { migrate: true, seed: true },
    });
    await actAsAdmin(t);
  });
  afterEach(async () => {
    await t.close();
  });

  it('boots catalog, inventory and orders in dependency order', () => {
    expect(t.app.modules.map((m) => m.manifest.name)).toEqual([
      'accounts',
      'catalog',
      'inventory',
      'orders',
    ]);
    expect(t.app.config.get('orders.approvalThreshold')).toBe(5000);
    expect(t.app.config.get('catalog.currency')).toBe('EUR');
  });

  it('lists products and opens stock for them through the inventory listener', async () => {
    const products = await t.inject({ method: 'GET', url: '/api/catalog/products' });
    expect(products.statusCode).toBe(200);
    expect(products.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(products.json().data.map((p: { sku: string }) => p.sku)).toEqual([
      'CHAIR-01',
      'DESK-01',
    ]);
    const levels = await t.inject('/api/inventory/levels');
    expect(levels.json().data).toEqual([
      { sku: 'CHAIR-01', onHand: 20 },
      { sku: 'DESK-01', onHand: 20 },
    ]);
  });

  it('serves catalogue reads from the cache and invalidates them by tag on writes', async () => {
    const stats = () => t.app.make('cache').pool('catalog').stats.snapshot();
    const names = async () =>
      (await t.inject('/api/catalog/products')).json().data.map((p: { name: string }) => p.name);
    const first = await names();
    expect(await names()).toEqual(first);
    expect((await t.inject('/api/catalog/products/CHAIR-01')).statusCode).toBe(200);
    expect((await t.inject('/api/catalog/products/CHAIR-01')).statusCode).toBe(200);
    expect(stats()).toMatchObject({ hits: 2, misses: 2, factoryCalls: 2 });

    // A write behind the cache's back is not seen (the listing is cached)...
    await db()
      .updateTable('products')
      .set({ name: 'Sneaky' })
      .where('sku', '=', 'DESK-01')
      .execute();
    expect(await names()).toEqual(first);
    // ...a write through the service invalidates the product and the listing.
    const patched = await t.inject({
      method: 'PATCH',
      url: '/api/catalog/products/CHAIR-01',
      payload: { name: 'Office chair' },
    });
    expect(patched.statusCode).toBe(200);
    expect(await names()).toEqual(['Office chair', 'Sneaky']);
    expect((await t.inject('/api/catalog/products/CHAIR-01')).json().name).toBe('Office chair');
    expect(
      t.app
        .make('cache')
        .warmers.all()
        .map((w) => w.name),
    ).toContain('catalog:listing');
  });

  it('creates, reads, updates and deletes a product', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/catalog/products',
      payload: { sku: 'LAMP-01', name: 'Desk lamp', price: 3_900 },
    });
    expect(created.statusCode).toBe(201);
    expect((await t.inject('/api/catalog/products/LAMP-01')).json()).toMatchObject({
      name: 'Desk lamp',
    });
    const updated = await t.inject({
      method: 'PATCH',
      url: '/api/catalog/products/LAMP-01',
      payload: { price: 4_200 },
    });
    expect(updated.json()).toMatchObject({ sku: 'LAMP-01', price: 4_200 });
    const duplicate = await t.inject({
      method: 'POST',
      url: '/api/catalog/products',
      payload: { sku: 'LAMP-01', name: 'Again', price: 1 },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: 'E_PRODUCT_EXISTS', status: 409 });
    expect(
      (await t.inject({ method: 'DELETE', url: '/api/catalog/products/LAMP-01' })).statusCode,
    ).toBe(204);
    const gone = await t.inject('/api/catalog/products/LAMP-01');
    expect(gone.statusCode).toBe(404);
    expect(gone.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('places an order, reserving stock, and flags large ones for approval', async () => {
    const small = await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: 'CHAIR-01', quantity: 0 + 1 }] },
    });
    expect(small.statusCode).toBe(201);
    expect(small.json()).toMatchObject({ total: 12_900, status: 'awaiting-approval' });
    expect((await t.inject('/api/inventory/levels')).json().data[0]).toEqual({
      sku: 'CHAIR-01',
      onHand: 19,
    });
  });

  it('queues the invoice with the order, and a worker issues it once', async () => {
    const placed = await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: 'DESK-01', quantity: 1 }] },
    });
    expect(placed.statusCode).toBe(201);
    const queue = t.app.make('queue');
    const [invoices] = await (await queue.driver()).stats(['invoices']);
    expect(invoices).toMatchObject({ ready: 1 });
    const summary = await (await queue.worker({ queues: ['invoices'], stopWhenEmpty: true })).run();
    expect(summary).toMatchObject({ processed: 1, failed: 0 });
    const rows = await db().selectFrom('invoices').selectAll().execute();
    expect(rows).toEqual([
      expect.objectContaining({
        order_id: placed.json().id,
        number: `INV-${String(placed.json().id).padStart(6, '0')}`,
      }),
    ]);
    // An order refused (unknown SKU) queues nothing: the job shares the order's transaction.
    await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: 'NOPE-01', quantity: 1 }] },
    });
    expect((await (await queue.driver()).stats(['invoices']))[0]).toMatchObject({ ready: 0 });
  });

  it('schedules the nightly sales report, and its job totals a day', async () => {
    const tasks = t.app.make('scheduler').upcoming(new Date('2026-03-01T12:00:00Z'));
    const report = tasks.find((s) => s.task.info.name === 'orders:daily-sales-report');
    expect(report?.nextRun?.toISOString()).toBe('2026-03-02T01:00:00.000Z');
    const today = new Date().toISOString().slice(0, 10);
    await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: 'DESK-01', quantity: 2 }] },
    });
    const { DailySalesReport } = await import('./modules/orders/jobs.js');
    await t.app.make('queue').dispatch(new DailySalesReport({ day: today }));
    await (await t.app.make('queue').worker({ queues: ['reports'], stopWhenEmpty: true })).run();
    const [row] = await db().selectFrom('daily_reports').selectAll().execute();
    expect(row).toMatchObject({ day: today, orders: 1 });
  });

  it('rejects invalid orders with every field error and moves no stock', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: '', quantity: -1 }, { sku: 'DESK-01' }] },
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.status).toBe(422);
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual([
      'body.lines.0.sku',
      'body.lines.0.quantity',
      'body.lines.1.quantity',
    ]);
    const tooMany = await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: {
        lines: [
          { sku: 'CHAIR-01', quantity: 5 },
          { sku: 'DESK-01', quantity: 999 },
        ],
      },
    });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().code).toBe('E_INSUFFICIENT_STOCK');
    // All or nothing: the first line's stock did not move either.
    expect((await t.inject('/api/inventory/levels')).json().data[0]).toEqual({
      sku: 'CHAIR-01',
      onHand: 20,
    });
  });

  it('refuses malformed and hostile bodies with problem+json', async () => {
    const malformed = await t.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { 'content-type': 'application/json' },
      payload: '{"lines": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('E_MALFORMED_JSON');
    const poisoned = await t.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { 'content-type': 'application/json' },
      payload: '{"lines":[],"__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().code).toBe('E_PROTOTYPE_POISONING');
    const wrongType = await t.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { 'content-type': 'application/xml' },
      payload: '<order/>',
    });
    expect(wrongType.statusCode).toBe(415);
    const notFound = await t.inject('/api/nope');
    expect(notFound.statusCode).toBe(404);
    const wrongMethod = await t.inject({ method: 'PUT', url: '/api/orders' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toContain('POST');
  });

  it('serves decorated controller routes discovered in the module', async () => {
    await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: 'DESK-01', quantity: 1 }] },
    });
    const res = await t.inject('/api/reports/orders?status=awaiting-approval');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ count: 1, total: 49_900, awaitingApproval: 1 });
  });

  it('keeps orders in the database and lists them with their lines in two queries', async () => {
    for (const quantity of [1, 2, 3]) {
      const placed = await t.inject({
        method: 'POST',
        url: '/api/orders',
        payload: {
          lines: [
            { sku: 'CHAIR-01', quantity },
            { sku: 'DESK-01', quantity: 1 },
          ],
        },
      });
      expect(placed.statusCode).toBe(201);
    }
    const statements: string[] = [];
    const off = db().onQuery((event) => statements.push(event.sql));
    const list = await t.inject('/api/orders');
    off();
    expect(list.json().data).toHaveLength(3);
    expect(list.json().data[2]).toMatchObject({
      id: 3,
      total: 3 * 12_900 + 49_900,
      lines: [
        { sku: 'CHAIR-01', quantity: 3, unitPrice: 12_900 },
        { sku: 'DESK-01', quantity: 1, unitPrice: 49_900 },
      ],
    });
    // Eager loading: one query for the orders, one for all their lines (the others read the
    // token, the rate limit and the permissions).
    expect(statements.filter((sql) => /from "(orders|order_lines)"/.test(sql))).toHaveLength(2);
    const rows = await db().selectFrom('order_lines').select('sku').execute();
    expect(rows).toHaveLength(6);
  });

  it('never oversells under concurrent orders: the decrement is one guarded statement', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.inject({
          method: 'POST',
          url: '/api/orders',
          payload: { lines: [{ sku: 'CHAIR-01', quantity: 3 }] },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(6);
    expect(codes.filter((c) => c === 409)).toHaveLength(4);
    expect((await t.inject('/api/inventory/levels')).json().data[0]).toEqual({
      sku: 'CHAIR-01',
      onHand: 2,
    });
    const orders = await db().selectFrom('orders').select('id').execute();
    expect(orders).toHaveLength(6);
  });

  it('archives a deleted product (soft delete) and opens stock for a new one', async () => {
    await t.inject({
      method: 'POST',
      url: '/api/catalog/products',
      payload: { sku: 'LAMP-01', name: 'Desk lamp', price: 3_900 },
    });
    const levels = (await t.inject('/api/inventory/levels')).json().data;
    expect(levels).toContainEqual({ sku: 'LAMP-01', onHand: 20 });
    await t.inject({ method: 'DELETE', url: '/api/catalog/products/LAMP-01' });
    const row = await db()
      .selectFrom('products')
      .select(['sku', 'deleted_at'])
      .where('sku', '=', 'LAMP-01')
      .executeTakeFirst();
    expect(row?.deleted_at).toBeTruthy();
    const listed = (await t.inject('/api/catalog/products')).json().data;
    expect(listed.map((p: { sku: string }) => p.sku)).toEqual(['CHAIR-01', 'DESK-01']);
  });

  it('seeds idempotently', async () => {
    await t.seed();
    await t.seed('catalog:products');
    const products = await db().selectFrom('products').select('sku').execute();
    expect(products).toHaveLength(2);
  });

  it('serves the same pipeline through fetch()', async () => {
    const res = await t.fetch(new Request('http://erp.test/api/catalog/products'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await res.json()) as { currency: string }).currency).toBe('EUR');
  });
});

describe('demo ERP observability', () => {
  let t: TestApp;
  let logRoot: string;
  let channels: LogChannels;
  let config: LoggingConfig;
  /** What the stdout channel received, one parsed JSON line each. */
  let lines: Array<Record<string, unknown>>;

  beforeEach(async () => {
    // The app logs through the logger its own config/logging.ts builds (the stdout + errors
    // stack, its redaction), with stdout captured and the files under a temp root.
    lines = [];
    logRoot = await mkdtemp(join(tmpdir(), 'keel-erp-logs-'));
    config = resolveLoggingConfig(resolveEnvRefs(loggingConfig, {}), { production: true });
    const stdout = {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line !== '') lines.push(JSON.parse(line));
      },
    };
    const built = createApplicationLogger({
      name: 'Keel ERP',
      env: 'test',
      version: '0.1.0',
      root: logRoot,
      pretty: false,
      stdout,
      config,
    });
    channels = built.channels;
    t = await createTestApp(root, {
      logger: built.logger,
      // The invoice backlog check warns above one order waiting.
      processEnv: { APP_ENV: 'test', DB_FILENAME: ':memory:', ORDERS_INVOICE_BACKLOG_WARN: '1' },
      database: { migrate: true, seed: true },
    });
    await actAsAdmin(t);
  });
  afterEach(async () => {
    await t.close();
    await channels.close();
    await rm(logRoot, { recursive: true, force: true });
  });

  const placeOrder = (sku = 'CHAIR-01', quantity = 1) =>
    t.inject({ method: 'POST', url: '/api/orders', payload: { lines: [{ sku, quantity }] } });

  it('answers liveness and readiness, and lists the orders module check in /health', async () => {
    const live = await t.inject('/healthz');
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await t.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().status).toBe('ok');

    const health = await t.inject('/health'); // light-my-request comes from 127.0.0.1
    expect(health.statusCode).toBe(200);
    expect(health.json().checks).toContainEqual(
      expect.objectContaining({
        name: 'orders:invoices',
        status: 'ok',
        readiness: false,
        details: { waiting: 0, warnAbove: 1 },
      }),
    );

    // Two orders whose invoices no worker issued: the check warns, readiness still passes.
    expect((await placeOrder()).statusCode).toBe(201);
    expect((await placeOrder('DESK-01')).statusCode).toBe(201);
    const backlog = await t.inject('/health/orders:invoices');
    expect(backlog.statusCode).toBe(200);
    expect(backlog.json()).toMatchObject({
      status: 'warn',
      checks: [{ name: 'orders:invoices', status: 'warn', details: { waiting: 2 } }],
    });
    expect((await t.inject('/ready')).statusCode).toBe(200);
    // A worker issues them: back to ok.
    await (await t.app.make('queue').worker({ queues: ['invoices'], stopWhenEmpty: true })).run();
    expect((await t.inject('/health/orders:invoices')).json().status).toBe('ok');

    // Details are not for the world: another address without the key is refused.
    const outsider = await t.inject({ url: '/health', remoteAddress: '203.0.113.9' });
    expect(outsider.statusCode).toBe(401);
    expect(outsider.json().code).toBe('E_HEALTH_UNAUTHORIZED');
  });

  it('counts placed orders by channel and status in /_metrics, next to HTTP by route', async () => {
    expect((await placeOrder()).statusCode).toBe(201); // 129.00 EUR, over the approval threshold
    // Refused orders are not counted: one unknown SKU, one hostile payload.
    expect((await placeOrder('NOPE-01')).statusCode).toBe(422);
    const hostile = await t.inject({
      method: 'POST',
      url: '/api/orders',
      payload: { lines: [{ sku: '"} 1\nkeel_orders_placed_total 9', quantity: 1 }] },
    });
    expect(hostile.statusCode).toBe(422);
    await t.app.make('orders').place([{ sku: 'DESK-01', quantity: 2 }], 'cli');
    expect((await t.inject('/api/catalog/products/CHAIR-01')).statusCode).toBe(200);
    expect((await t.inject('/api/catalog/products/DESK-01')).statusCode).toBe(200);

    const scrape = await t.inject('/_metrics');
    expect(scrape.statusCode).toBe(200);
    const text = scrape.body;
    const series = text.split('\n').filter((line) => line.startsWith('keel_order'));
    expect(series).toContain(
      'keel_orders_placed_total{channel="api",status="awaiting-approval"} 1',
    );
    expect(series).toContain(
      'keel_orders_placed_total{channel="cli",status="awaiting-approval"} 1',
    );
    expect(series.filter((line) => line.startsWith('keel_orders_placed_total'))).toHaveLength(2);
    // 129 EUR lands in the 250 bucket, not the 100 one; the CLI's 998 EUR in 1000.
    expect(series).toContain('keel_order_value_bucket{channel="api",le="100"} 0');
    expect(series).toContain('keel_order_value_bucket{channel="api",le="250"} 1');
    expect(series).toContain('keel_order_value_sum{channel="api"} 129');
    expect(series).toContain('keel_order_value_bucket{channel="cli",le="1000"} 1');
    expect(series).toContain('keel_order_value_count{channel="cli"} 1');
    // The HTTP metrics name route patterns, never the SKUs asked for.
    expect(text).toContain(
      'keel_http_requests_total{method="GET",route="/api/catalog/products/:sku",status="200"} 2',
    );
    expect(text).toContain(
      'keel_http_requests_total{method="POST",route="/api/orders",status="201"} 1',
    );
    expect(text).not.toContain('CHAIR-01');

    // Scrapes from elsewhere need the key.
    const outsider = await t.inject({ url: '/_metrics', remoteAddress: '203.0.113.9' });
    expect(outsider.statusCode).toBe(403);
    expect(outsider.json().code).toBe('E_METRICS_FORBIDDEN');
  });

  it('logs the order request with its request_id and order_id, and leaves probes out', async () => {
    const res = await placeOrder('DESK-01');
    expect(res.statusCode).toBe(201);
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const access = lines.filter((l) => l.msg === 'request completed' && l.path === '/api/orders');
    expect(access).toEqual([
      expect.objectContaining({
        level: 30,
        request_id: requestId,
        order_id: res.json().id,
        route: '/api/orders',
        method: 'POST',
        status: 201,
        module: 'orders',
      }),
    ]);
    // The listener's line, written after the order was created, carries both too.
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'order placed',
        request_id: requestId,
        order_id: res.json().id,
      }),
    );

    for (const probe of ['/healthz', '/ready', '/health', '/health/orders:invoices', '/_metrics'])
      expect((await t.inject(probe)).statusCode).toBe(200);
    const paths = lines.filter((l) => l.msg === 'request completed').map((l) => l.path);
    expect(paths).toEqual(['/api/orders']);
  });

  it('redacts bank and tax ids, and writes errors (only) to var/log/errors.log', async () => {
    t.app
      .moduleLogger('orders')
      .info(
        { customer: { name: 'Acme GmbH', iban: 'DE89370400440532013000', vatId: 'DE123456789' } },
        'customer on file',
      );
    const customerLine = lines.find((l) => l.msg === 'customer on file');
    expect(customerLine?.customer).toEqual({
      name: 'Acme GmbH',
      iban: '[redacted]',
      vatId: '[redacted]',
    });

    // An invoice job for an order that does not exist fails for good: an error line.
    const { GenerateInvoice } = await import('./modules/orders/jobs.js');
    const queue = t.app.make('queue');
    const jobId = await queue.dispatch(new GenerateInvoice({ orderId: 999_999 }));
    await (await queue.worker({ queues: ['invoices'], stopWhenEmpty: true })).run();
    await channels.close();

    const file = await readFile(join(logRoot, 'var/log/errors.log'), 'utf8');
    const errors = file
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((l) => l.level >= 50)).toBe(true);
    expect(errors).toContainEqual(expect.objectContaining({ job_id: String(jobId) }));
    expect(file).toContain('order 999999 does not exist');
    // Everything went to stdout as well; the customer line only there.
    expect(lines.filter((l) => (l.level as number) >= 50)).toHaveLength(errors.length);
    expect(file).not.toContain('customer on file');
    expect(config.channels.errors).toMatchObject({ rotate: 'daily', keep: '30d', compress: true });
  });
});

describe('demo ERP security', () => {
  let t: TestApp;
  /** Requests as sent, without the admin token (anonymous unless a test says otherwise). */
  let send: TestApp['inject'];
  beforeEach(async () => {
    t = await createTestApp(root, {
      processEnv: { APP_ENV: 'test', DB_FILENAME: ':memory:' },
      database: { migrate: true, seed: true },
    });
    send = await actAsAdmin(t);
  });
  afterEach(async () => {
    await t.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const order = { lines: [{ sku: 'CHAIR-01', quantity: 1 }] };

  /** A browser: a cookie jar kept across requests. */
  function browser() {
    const jar = new Map<string, string>();
    return {
      jar,
      async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
        const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await send({
          method,
          url,
          headers: {
            ...(cookie ? { cookie } : {}),
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
        });
        for (const header of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
          const [pair] = header.split(';');
          const [name, ...rest] = (pair as string).split('=');
          if (/max-age=0/i.test(header)) jar.delete(name as string);
          else jar.set(name as string, rest.join('='));
        }
        return res;
      },
      async csrf(url = '/login') {
        const page = await this.request('GET', url);
        return /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1] as string;
      },
    };
  }

  it('lets anyone browse, the clerk place orders, and only the admin change the catalog', async () => {
    expect((await send('/api/catalog/products')).statusCode).toBe(200);
    const anonymous = await send({ method: 'POST', url: '/api/orders', payload: order });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(anonymous.json()).toMatchObject({ code: 'E_UNAUTHENTICATED', status: 401 });

    const clerk = bearer(await tokenFor(t, 'clerk@erp.test'));
    const placed = await send({
      method: 'POST',
      url: '/api/orders',
      headers: clerk,
      payload: order,
    });
    expect(placed.statusCode).toBe(201);
    const product = { sku: 'LAMP-01', name: 'Desk lamp', price: 3_900 };
    const refused = await send({
      method: 'POST',
      url: '/api/catalog/products',
      headers: clerk,
      payload: product,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'E_FORBIDDEN' });
    expect(
      (await t.inject({ method: 'POST', url: '/api/catalog/products', payload: product }))
        .statusCode,
    ).toBe(201);
    // API responses carry the security headers and the rate limit.
    expect(placed.headers['x-content-type-options']).toBe('nosniff');
    expect(placed.headers['x-ratelimit-limit']).toBeDefined();
  });

  it('places an order once for a retried Idempotency-Key, and refuses the key for another order', async () => {
    const headers = { 'idempotency-key': 'order-7f3a' };
    const first = await t.inject({ method: 'POST', url: '/api/orders', headers, payload: order });
    const retry = await t.inject({ method: 'POST', url: '/api/orders', headers, payload: order });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect((await t.inject('/api/orders')).json().data).toHaveLength(1);
    const other = await t.inject({
      method: 'POST',
      url: '/api/orders',
      headers,
      payload: { lines: [{ sku: 'DESK-01', quantity: 1 }] },
    });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'E_IDEMPOTENCY_KEY_REUSED' });
  });

  it('signs in on the web with the session and CSRF, renewing the session id, and signs out', async () => {
    const b = browser();
    const token = await b.csrf();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const before = b.jar.get('keel_session');
    expect(before).toBeDefined();

    const forged = await b.request('POST', '/login', {
      email: 'admin@erp.test',
      password: 'admin-password',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'E_CSRF_TOKEN_MISMATCH' });

    const wrong = await b.request('POST', '/login', {
      csrf_token: token,
      email: 'admin@erp.test',
      password: 'nope',
    });
    expect(wrong.statusCode).toBe(302);
    expect(wrong.headers.location).toBe('/login');
    expect((await b.request('GET', '/login')).body).toContain('Wrong e-mail or password.');

    const ok = await b.request('POST', '/login', {
      csrf_token: token,
      email: 'Admin@ERP.test',
      password: 'admin-password',
    });
    expect(ok.headers.location).toBe('/account');
    expect(b.jar.get('keel_session')).not.toBe(before); // fixation: a new id after login
    const account = await b.request('GET', '/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('Hello, Ada Admin');
    expect(account.body).toContain('(this one)');
    // The id from before the login opens nothing.
    const planted = await send({ url: '/account', headers: { cookie: `keel_session=${before}` } });
    expect(planted.statusCode).toBe(302);

    const out = await b.request('POST', '/logout', { csrf_token: await b.csrf('/account') });
    expect(out.headers.location).toBe('/login');
    expect((await b.request('GET', '/account')).headers.location).toBe('/login');
  });

  it('limits login attempts to five a minute per address, on the web and the token API', async () => {
    const attempt = () =>
      send({
        method: 'POST',
        url: '/api/tokens',
        payload: { email: 'clerk@erp.test', password: 'guess' },
      });
    for (let i = 0; i < 5; i++) expect((await attempt()).statusCode).toBe(401);
    const blocked = await attempt();
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json()).toMatchObject({ code: 'E_RATE_LIMITED', status: 429 });
    // The right password does not get through the lockout either.
    const right = await send({
      method: 'POST',
      url: '/api/tokens',
      payload: { email: 'clerk@erp.test', password: 'clerk-password' },
    });
    expect(right.statusCode).toBe(429);
  });

  it('issues API tokens for credentials, answers /api/me with them, and revokes them', async () => {
    const issued = await send({
      method: 'POST',
      url: '/api/tokens',
      payload: { email: 'clerk@erp.test', password: 'clerk-password', name: 'laptop' },
    });
    expect(issued.statusCode).toBe(201);
    const { token } = issued.json() as { token: string };
    expect(token).toMatch(/^keel_/);
    const me = await send({ url: '/api/me', headers: bearer(token) });
    expect(me.json()).toMatchObject({
      email: 'clerk@erp.test',
      permissions: ['orders.place', 'orders.view'],
    });
    expect(
      (await send({ method: 'DELETE', url: '/api/tokens/current', headers: bearer(token) }))
        .statusCode,
    ).toBe(204);
    expect((await send({ url: '/api/me', headers: bearer(token) })).statusCode).toBe(401);
  });
});
