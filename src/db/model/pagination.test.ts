import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import {
  Category,
  error,
  Order,
  Product,
  resetShop,
  useShopDatabase,
} from './__fixtures__/shop.js';

describeEachDialect('Model pagination', (database, dialect) => {
  const shop = useShopDatabase(database, dialect);

  beforeAll(async () => {
    await resetShop(shop().connection);
    const tools = await Category.create({ name: 'Tools' });
    // 23 products; prices repeat so ordering by price has ties the key must break.
    for (let i = 1; i <= 23; i++)
      await Product.create({
        sku: `P${String(i).padStart(2, '0')}`,
        name: `Product ${i}`,
        price: String((i % 5) + 1),
        category_id: tools.id,
      });
    const trashed = await Product.create({ sku: 'TRASHED', name: 'x', price: '1' });
    await trashed.delete();
  });

  describe('offset', () => {
    it('pages with the total, last page and a stable order', async () => {
      const first = await Product.query().paginate(1, 10);
      expect(first.meta).toEqual({ total: 23, perPage: 10, currentPage: 1, lastPage: 3 });
      expect(first.data.map((p) => p.sku)).toEqual(
        Array.from({ length: 10 }, (_, i) => `P${String(i + 1).padStart(2, '0')}`),
      );
      const last = await Product.query().paginate('3', '10');
      expect(last.data.map((p) => p.sku)).toEqual(['P21', 'P22', 'P23']);
      const beyond = await Product.query().paginate(9, 10);
      expect(beyond.data).toEqual([]);
      expect(beyond.meta.lastPage).toBe(3);
      const filtered = await Product.query()
        .where('price', '5')
        .orderBy('sku', 'desc')
        .with('category')
        .paginate(1, 2);
      expect(filtered.meta).toEqual({ total: 4, perPage: 2, currentPage: 1, lastPage: 2 });
      expect(filtered.data.map((p) => p.sku)).toEqual(['P19', 'P14']);
      expect(filtered.data[0]!.category?.name).toBe('Tools');
      const none = await Product.query().where('sku', 'nothing').paginate();
      expect(none).toEqual({
        data: [],
        meta: { total: 0, perPage: 20, currentPage: 1, lastPage: 1 },
      });
    });

    it('refuses pages and sizes that are not whole numbers in range (input from a query string)', async () => {
      for (const [page, perPage] of [
        [0, 10],
        [-1, 10],
        ['abc', 10],
        ['1e3', 10],
        ['2.5', 10],
        [1, 0],
        [1, 1001],
        [1, '10; drop table products'],
        [Number.NaN, 10],
        [{ page: 1 }, 10],
      ] as Array<[unknown, unknown]>)
        expect(
          await error(Product.query().paginate(page as never, perPage as never)),
          `${page}/${perPage}`,
        ).toMatchObject({
          code: 'E_MODEL_QUERY_INVALID',
          status: 400,
        });
    });
  });

  describe('cursor', () => {
    async function walk(
      orderBy: Parameters<ReturnType<typeof Product.query>['cursorPaginate']>[0],
    ) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await Product.query().cursorPaginate({ ...orderBy, cursor });
        seen.push(...page.data.map((p) => p.sku));
        cursor = page.nextCursor;
        if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        pages++;
      } while (cursor && pages < 50);
      return { seen, pages };
    }

    it('walks every row exactly once, by key or by a column with ties', async () => {
      const byKey = await walk({ limit: 5 });
      expect(byKey.seen).toHaveLength(23);
      expect(new Set(byKey.seen).size).toBe(23);
      expect(byKey.pages).toBe(5);
      const byPrice = await walk({ limit: 4, orderBy: { column: 'price', direction: 'desc' } });
      expect(new Set(byPrice.seen).size).toBe(23);
      const all = await Product.query().orderBy('price', 'desc').orderBy('id', 'desc').all();
      expect(byPrice.seen).toEqual(all.map((p) => p.sku));
      const byTwo = await walk({
        limit: 7,
        orderBy: ['price', { column: 'sku', direction: 'desc' }],
      });
      expect(byTwo.seen).toHaveLength(23);
      expect(new Set(byTwo.seen).size).toBe(23);
    });

    it('pages with where clauses and eager loads, and ends with a null cursor', async () => {
      const page = await Product.query()
        .where('price', '2')
        .with('category')
        .cursorPaginate({ limit: 10 });
      expect(page.data.map((p) => p.sku)).toEqual(['P01', 'P06', 'P11', 'P16', 'P21']);
      expect(page.nextCursor).toBeNull();
      expect(page.data[0]!.category?.name).toBe('Tools');
    });

    it('refuses garbage and tampered cursors with E_MODEL_CURSOR_INVALID (400)', async () => {
      const page = await Product.query().cursorPaginate({ limit: 2 });
      const valid = page.nextCursor!;
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const garbage: unknown[] = [
        'not a cursor!',
        '%%%',
        'a'.repeat(5000),
        Buffer.from('plain text').toString('base64url'),
        encode({ id: 1 }),
        encode([2, 'id:asc', [1]]),
        encode([1, 'price:desc,id:desc', [1, 2]]),
        encode([1, 'id:asc', []]),
        encode([1, 'id:asc', ['1 OR 1=1']]),
        encode([1, 'id:asc', [null]]),
        encode([1, 'id:asc', [{ $gt: 0 }]]),
        `${valid.slice(0, -3)}`,
        42,
      ];
      for (const cursor of garbage)
        expect(
          await error(Product.query().cursorPaginate({ cursor: cursor as never, limit: 2 })),
          String(cursor).slice(0, 40),
        ).toMatchObject({ code: 'E_MODEL_CURSOR_INVALID', status: 400 });
      // The same cursor against another ordering is refused too.
      expect(
        await error(Product.query().cursorPaginate({ cursor: valid, orderBy: 'price' })),
      ).toMatchObject({
        code: 'E_MODEL_CURSOR_INVALID',
        message: expect.stringContaining('another ordering'),
      });
    });

    it('checks ordering columns and the limit', async () => {
      expect(
        await error(Product.query().cursorPaginate({ orderBy: 'sku; drop table products' })),
      ).toMatchObject({
        code: 'E_DB_IDENTIFIER_REFUSED',
      });
      expect(
        await error(
          Product.query().cursorPaginate({
            orderBy: { column: 'price', direction: 'sideways' as never },
          }),
        ),
      ).toMatchObject({ code: 'E_DB_IDENTIFIER_REFUSED' });
      expect(await error(Product.query().cursorPaginate({ orderBy: 'released_at' }))).toMatchObject(
        {
          code: 'E_MODEL_QUERY_INVALID',
        },
      );
      expect(await error(Product.query().cursorPaginate({ limit: 0 }))).toMatchObject({
        code: 'E_MODEL_QUERY_INVALID',
      });
      expect(await error(Order.query().cursorPaginate({ limit: 'x' }))).toMatchObject({
        code: 'E_MODEL_QUERY_INVALID',
      });
    });
  });
});
