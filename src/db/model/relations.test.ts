import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { db } from '../database-manager.js';
import {
  Category,
  Customer,
  error,
  Order,
  OrderLine,
  Product,
  Profile,
  resetShop,
  Tag,
  useShopDatabase,
} from './__fixtures__/shop.js';
import { IN_CHUNK } from './relations.js';

describeEachDialect('Model relations', (database, dialect) => {
  const shop = useShopDatabase(database, dialect);
  /** Selects since the last reset of the query log. */
  const selects = () => shop().queries.filter((q) => q.operation === 'select');

  let tools: Category;
  let hammer: Product;
  let saw: Product;
  let ada: Customer;
  let bob: Customer;

  beforeEach(async () => {
    await resetShop(shop().connection);
    tools = await Category.create({ name: 'Tools' });
    const empty = await Category.create({ name: 'Empty' });
    void empty;
    hammer = await Product.create({
      sku: 'HAM',
      name: 'Hammer',
      price: '9.90',
      category_id: tools.id,
    });
    saw = await Product.create({ sku: 'SAW', name: 'Saw', price: '19.90', category_id: tools.id });
    await Product.create({ sku: 'LOOSE', name: 'Loose', price: '1.00' });
    ada = await Customer.create({ name: 'Ada', email: 'ada@example.com' });
    bob = await Customer.create({ name: 'Bob', email: 'bob@example.com' });
    await Profile.create({ customer_id: ada.id, bio: 'Mathematician' });
    for (const [customer, lines] of [
      [
        ada,
        [
          [hammer, 1],
          [saw, 2],
        ],
      ],
      [ada, [[saw, 3]]],
      [bob, [[hammer, 4]]],
      [bob, []],
    ] as const) {
      const order = await Order.create({ customer_id: customer.id, status: 'paid' });
      for (const [item, qty] of lines)
        await OrderLine.create({ order_id: order.id, product_id: item.id, qty });
    }
    shop().queries.length = 0;
  });

  describe('eager loading', () => {
    it('loads belongsTo, hasMany and hasOne with one query per relation, never one per row', async () => {
      const orders = await Order.query().with('lines', 'customer').orderBy('id').all();
      expect(selects()).toHaveLength(3);
      expect(selects()[1]!.sql).toMatch(/order_lines.*in \(/i);
      expect(orders.map((o) => o.lines.length)).toEqual([2, 1, 1, 0]);
      expect(orders.map((o) => o.customer?.name)).toEqual(['Ada', 'Ada', 'Bob', 'Bob']);
      expect(orders[0]!.lines[0]).toBeInstanceOf(OrderLine);
      shop().queries.length = 0;
      const customers = await Customer.query().with('profile').orderBy('name').all();
      expect(selects()).toHaveLength(2);
      expect(customers.map((c) => c.profile?.bio ?? null)).toEqual(['Mathematician', null]);
    });

    it('loads nested paths with one query per level', async () => {
      const orders = await Order.query()
        .with('lines.product.category', 'customer.profile')
        .orderBy('id')
        .all();
      // orders, lines, products, categories, customers, profiles
      expect(selects()).toHaveLength(6);
      expect(orders[0]!.lines.map((l) => l.product?.sku).sort()).toEqual(['HAM', 'SAW']);
      expect(orders[0]!.lines[0]!.product?.category?.name).toBe('Tools');
      expect(orders[2]!.customer?.profile).toBeNull();
      const json = orders[0]!.toJSON() as {
        lines: Array<{ product: { category: { name: string } } }>;
      };
      expect(json.lines[0]!.product.category.name).toBe('Tools');
    });

    it('applies a constraint to an eager query, and excludes soft-deleted related rows', async () => {
      const orders = await Order.query()
        .with('lines', (q) => q.where('qty', '>=', 2))
        .orderBy('id')
        .all();
      expect(orders.map((o) => o.lines.map((l) => l.qty))).toEqual([[2], [3], [4], []]);
      await saw.delete();
      const lines = await OrderLine.query().with('product').orderBy('id').all();
      expect(lines.map((l) => l.product?.sku ?? null)).toEqual(['HAM', null, null, 'HAM']);
    });

    it('loads many-to-many through the pivot table, with pivot columns', async () => {
      const [steel, wood] = [
        await Tag.create({ name: 'steel' }),
        await Tag.create({ name: 'wood' }),
      ];
      await hammer.attach('tags', [steel.id, wood.id], { position: 1 });
      await saw.attach('tags', steel.id, { position: 2 });
      shop().queries.length = 0;
      const products = await Product.query().with('tags').orderBy('sku').all();
      expect(selects()).toHaveLength(2);
      expect(selects()[1]!.sql).toMatch(/join\s+["`]?product_tag/i);
      expect(products.map((p) => p.tags.map((t) => t.name).sort())).toEqual([
        ['steel', 'wood'],
        [],
        ['steel'],
      ]);
      expect(products[2]!.tags[0]!.$pivot).toEqual({ product_id: saw.id, position: 2 });
      expect((products[0]!.toJSON().tags as Array<{ pivot: unknown }>)[0]!.pivot).toMatchObject({
        position: 1,
      });
      const tags = await Tag.query().with('products').orderBy('name').all();
      expect(tags.map((t) => t.products.map((p) => p.sku).sort())).toEqual([
        ['HAM', 'SAW'],
        ['HAM'],
      ]);
    });

    it('splits a huge IN list into chunks instead of one per row', async () => {
      const rows = Array.from({ length: IN_CHUNK + 5 }, (_, i) => ({ name: `bulk-${i}` }));
      for (let i = 0; i < rows.length; i += 500)
        await db()
          .insertInto('categories')
          .values(rows.slice(i, i + 500))
          .execute();
      shop().queries.length = 0;
      const categories = await Category.query().with('products').all();
      expect(categories.length).toBe(IN_CHUNK + 7);
      // The categories, then two IN chunks for their products.
      expect(selects()).toHaveLength(3);
      expect(categories.find((c) => c.name === 'Tools')?.products).toHaveLength(2);
    });

    it('refuses unknown relation names (they may come from an ?include= parameter)', () => {
      for (const path of [
        'nope',
        'lines.nope',
        'lines.product.nope',
        '',
        'lines..product',
        '__proto__',
      ])
        expect(() => Order.query().with(path as never), path).toThrow(
          expect.objectContaining({ code: 'E_DB_IDENTIFIER_REFUSED', status: 400 }),
        );
      expect(() => Order.query().with('nope' as never)).toThrow(/allowed: customer, lines/);
    });

    it('loads relations for a list of models at once', async () => {
      const orders = await Order.query().orderBy('id').all();
      shop().queries.length = 0;
      await Order.load(orders, 'lines.product');
      expect(selects()).toHaveLength(2);
      expect(orders[1]!.lines[0]!.product?.sku).toBe('SAW');
    });
  });

  describe('lazy loading', () => {
    it('loads on demand with load() and related(), once', async () => {
      const order = await Order.query().orderBy('id').firstOrFail();
      expect(order.isLoaded('lines')).toBe(false);
      const lines = await order.related('lines');
      expect(lines).toHaveLength(2);
      expect(order.lines).toBe(lines);
      shop().queries.length = 0;
      await order.related('lines');
      expect(selects()).toHaveLength(0);
      await order.load('customer.profile');
      expect(order.customer?.profile?.bio).toBe('Mathematician');
      const line = await OrderLine.query().orderBy('id').firstOrFail();
      expect((await line.related('order'))?.id).toBe(order.id);
      expect((await hammer.related('category'))?.name).toBe('Tools');
      expect(await (await Product.findByOrFail('sku', 'LOOSE')).related('category')).toBeNull();
    });

    it('queries a relation of one model with relatedQuery', async () => {
      const order = await Order.query().orderBy('id').firstOrFail();
      const big = await order.relatedQuery('lines').where('qty', '>', 1).all();
      expect(big.map((l) => l.qty)).toEqual([2]);
      expect(await order.relatedQuery('lines').count()).toBe(2);
      expect(
        (await (await OrderLine.query().firstOrFail()).relatedQuery('order').first())?.id,
      ).toBeDefined();
      expect(() => order.relatedQuery('nope' as never)).toThrow(
        expect.objectContaining({ code: 'E_DB_IDENTIFIER_REFUSED' }),
      );
    });

    it('reloads loaded relations on refresh', async () => {
      const order = await Order.query().with('lines').orderBy('id').firstOrFail();
      await OrderLine.create({ order_id: order.id, product_id: hammer.id, qty: 9 });
      expect(order.lines).toHaveLength(2);
      await order.refresh();
      expect(order.lines).toHaveLength(3);
    });
  });

  describe('many-to-many writes', () => {
    it('attaches, detaches and syncs pivot rows', async () => {
      const tags = await Promise.all(['a', 'b', 'c'].map((name) => Tag.create({ name })));
      const [a, b, c] = tags.map((t) => t.id) as [number, number, number];
      await hammer.attach('tags', [a, b]);
      expect((await hammer.related('tags')).map((t) => t.name).sort()).toEqual(['a', 'b']);
      // A write makes the loaded relation stale: it is dropped and loads again.
      expect(await hammer.detach('tags', a)).toBe(1);
      expect(hammer.isLoaded('tags')).toBe(false);
      expect((await hammer.related('tags')).map((t) => t.name)).toEqual(['b']);
      const result = await hammer.sync('tags', [c, a, a]);
      expect(result.detached).toEqual([b]);
      expect(result.attached.sort()).toEqual([a, c].sort());
      expect((await hammer.related('tags')).map((t) => t.name).sort()).toEqual(['a', 'c']);
      expect(await hammer.detach('tags')).toBe(2);
    });

    it('refuses bad keys, pivot columns and relations', async () => {
      expect(await error(hammer.attach('tags', 'x' as never))).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
      expect(await error(hammer.attach('tags', [1], { 'x; drop': 1 }))).toMatchObject({
        code: 'E_DB_IDENTIFIER_REFUSED',
      });
      expect(await error(hammer.attach('category', [1] as never))).toMatchObject({
        code: 'E_DB_IDENTIFIER_REFUSED',
      });
      expect(await error(new Product().attach('tags', [1]))).toMatchObject({
        code: 'E_MODEL_NOT_PERSISTED',
      });
      const tag = await Tag.create({ name: 'dup' });
      await hammer.attach('tags', tag.id);
      expect(await error(hammer.attach('tags', tag.id))).toMatchObject({
        code: 'E_DB_UNIQUE_VIOLATION',
      });
    });
  });
});
