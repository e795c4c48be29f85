import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { db } from '../database-manager.js';
import {
  Category,
  Customer,
  error,
  Order,
  Product,
  resetShop,
  Tag,
  useShopDatabase,
} from './__fixtures__/shop.js';
import { column } from './column.js';
import { defineModel } from './define-model.js';

function product(sku: string, extra: Record<string, unknown> = {}) {
  return Product.create({ sku, name: `Product ${sku}`, price: '19.90', ...extra });
}

describeEachDialect('Model CRUD', (database, dialect) => {
  const shop = useShopDatabase(database, dialect);

  beforeEach(async () => {
    await resetShop(shop().connection);
    shop().queries.length = 0;
  });

  describe('create and find', () => {
    it('creates a row and returns it as stored, database defaults and timestamps included', async () => {
      const created = await product('A-1');
      expect(created.$isPersisted).toBe(true);
      expect(typeof created.id).toBe('number');
      expect(created.active).toBe(true);
      expect(created.stock).toBe(0);
      expect(created.meta).toBeNull();
      expect(created.created_at).toBeInstanceOf(Date);
      expect(created.created_at.getTime()).toBe(created.updated_at.getTime());
      expect(created.isDirty()).toBe(false);
      // One round trip with RETURNING; MySQL reads insertId and re-selects.
      const writes = shop().queries.filter((q) => q.operation !== 'transaction');
      expect(writes.map((q) => q.operation)).toEqual(
        dialect === 'mysql' ? ['insert', 'select'] : ['insert'],
      );
      if (dialect !== 'mysql') expect(writes[0]!.sql).toMatch(/returning/i);
    });

    it('finds by key, returns null for a missing or ill-typed key, and findOrFail is a 404', async () => {
      const created = await product('A-1');
      const found = await Product.find(created.id);
      expect(found).toBeInstanceOf(Product);
      expect(found?.sku).toBe('A-1');
      expect(await Product.find(created.id + 1000)).toBeNull();
      expect(await Product.find(String(created.id))).not.toBeNull();
      shop().queries.length = 0;
      for (const hostile of ['abc', '1 OR 1=1', "1'; drop table products; --", '', '1.5'])
        expect(await Product.find(hostile)).toBeNull();
      expect(shop().queries).toHaveLength(0);
      const missing = await error(Product.findOrFail(999_999));
      expect(missing).toMatchObject({
        code: 'E_MODEL_NOT_FOUND',
        status: 404,
        details: { model: 'Product', key: '999999' },
      });
      expect((missing as Error).message).toBe('Product with key "999999" was not found');
      expect(await error(Product.findOrFail('x'.repeat(500)))).toMatchObject({
        code: 'E_MODEL_NOT_FOUND',
      });
    });

    it('uses a generated UUID primary key', async () => {
      const customer = await Customer.create({ name: 'Ada', email: 'ada@example.com' });
      expect(customer.id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await Customer.findOrFail(customer.id)).name).toBe('Ada');
      expect(await Customer.find('not-a-uuid')).toBeNull();
    });

    it('finds by column, many keys, first and all', async () => {
      const a = await product('A');
      const b = await product('B');
      expect((await Product.findBy('sku', 'B'))?.id).toBe(b.id);
      expect(await Product.findBy('sku', 'Z')).toBeNull();
      expect(await error(Product.findByOrFail('sku', 'Z'))).toMatchObject({
        code: 'E_MODEL_NOT_FOUND',
        details: { key: 'sku=Z' },
      });
      const many = await Product.findMany([b.id, a.id, 'junk' as never, 424242]);
      expect(many.map((p) => p.sku).sort()).toEqual(['A', 'B']);
      expect((await Product.first())?.id).toBe(a.id);
      expect(await Product.all()).toHaveLength(2);
    });

    it('turns a duplicate into E_DB_UNIQUE_VIOLATION and leaves the model unsaved', async () => {
      await product('DUP');
      const copy = new Product({ sku: 'DUP', name: 'again', price: '1' });
      expect(await error(copy.save())).toMatchObject({
        code: 'E_DB_UNIQUE_VIOLATION',
        status: 409,
      });
      expect(copy.$isPersisted).toBe(false);
    });

    it('joins the ambient transaction and rolls back with it', async () => {
      await error(
        db().transaction(async () => {
          await product('IN-TRX');
          expect(await Product.findBy('sku', 'IN-TRX')).not.toBeNull();
          throw new Error('abort');
        }),
      );
      expect(await Product.findBy('sku', 'IN-TRX')).toBeNull();
    });

    it('creates many in one transaction, all or nothing', async () => {
      const made = await Product.createMany([
        { sku: 'M1', name: 'one', price: '1' },
        { sku: 'M2', name: 'two', price: '2' },
      ]);
      expect(made.map((p) => p.sku)).toEqual(['M1', 'M2']);
      expect(
        await error(
          Product.createMany([
            { sku: 'M3', name: 'three', price: '3' },
            { sku: 'M1', name: 'duplicate', price: '1' },
          ]),
        ),
      ).toMatchObject({ code: 'E_DB_UNIQUE_VIOLATION' });
      expect(await Product.findBy('sku', 'M3')).toBeNull();
    });

    it('resolves the connection through db(): an unknown connection name is refused', async () => {
      const Elsewhere = defineModel({
        table: 'products',
        connection: 'reporting',
        timestamps: false,
        columns: { id: column.id() },
      });
      expect(await error(Elsewhere.find(1))).toMatchObject({ code: 'E_DB_CONNECTION_NOT_FOUND' });
      expect(Product.connection()).toBe(db());
    });

    it('inserts a row made only of defaults', async () => {
      await db()
        .schema.createTable('blanks')
        .ifNotExists()
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('note', 'varchar(20)', (c) => c.notNull().defaultTo('blank'))
        .execute();
      const Blank = defineModel({
        table: 'blanks',
        timestamps: false,
        columns: { id: column.id(), note: column.string().optional() },
      });
      const blank = await Blank.create({});
      expect(blank.note).toBe('blank');
      expect(typeof blank.id).toBe('number');
    });

    it('hydrates rows read with raw Kysely', async () => {
      await product('RAW', { active: false });
      const row = await db()
        .selectFrom('products')
        .selectAll()
        .where('sku', '=', 'RAW')
        .executeTakeFirstOrThrow();
      const hydrated = Product.hydrate(row);
      expect(hydrated.active).toBe(false);
      expect(hydrated.price).toBe('19.90');
      expect(hydrated.$isPersisted).toBe(true);
    });
  });

  describe('casts', () => {
    it('round-trips decimals exactly, booleans, JSON and dates the same on every engine', async () => {
      const released = new Date('2024-02-29T23:59:58.123Z');
      const meta = { color: 'red', tags: ['a', 'b'], dimensions: { w: 1, h: 2 } };
      const created = await product('CAST', {
        price: '12345678.90',
        active: false,
        meta,
        released_at: released,
      });
      const read = await Product.findOrFail(created.id);
      expect(read.price).toBe('12345678.90');
      expect(read.active).toBe(false);
      expect(read.meta).toEqual(meta);
      expect(read.released_at).toBeInstanceOf(Date);
      expect(read.released_at?.toISOString()).toBe('2024-02-29T23:59:58.123Z');
      expect(read.toJSON()).toMatchObject({
        price: '12345678.90',
        active: false,
        meta,
        released_at: '2024-02-29T23:59:58.123Z',
      });
      expect(read.toJSON()).not.toHaveProperty('secret');
      const cheap = await product('CHEAP', { price: 0.1 });
      expect((await Product.findOrFail(cheap.id)).price).toBe('0.10');
      const fromString = await product('STR-DATE', { released_at: '2024-05-01' });
      expect((await Product.findOrFail(fromString.id)).released_at?.toISOString()).toBe(
        '2024-05-01T00:00:00.000Z',
      );
    });

    it('compares booleans, dates and JSON in where clauses with the engine’s representation', async () => {
      await product('ON', { active: true, released_at: new Date('2024-01-01T00:00:00Z') });
      await product('OFF', { active: false, released_at: new Date('2024-06-01T00:00:00Z') });
      const on = await Product.query().where('active', true).all();
      expect(on.map((p) => p.sku)).toEqual(['ON']);
      const later = await Product.query()
        .where('released_at', '>', new Date('2024-03-01T00:00:00Z'))
        .all();
      expect(later.map((p) => p.sku)).toEqual(['OFF']);
      const iso = await Product.query().where('released_at', '<', '2024-03-01T00:00:00Z').all();
      expect(iso.map((p) => p.sku)).toEqual(['ON']);
    });
  });

  describe('save, dirty tracking, refresh, delete', () => {
    it('updates only the dirty columns (and updated_at), and nothing when clean', async () => {
      const created = await product('D-1');
      const before = created.updated_at.getTime();
      shop().queries.length = 0;
      await created.save();
      expect(shop().queries).toHaveLength(0);
      created.name = 'Renamed';
      expect(created.isDirty()).toBe(true);
      expect(created.isDirty('name')).toBe(true);
      expect(created.isDirty('price')).toBe(false);
      expect(created.getDirty()).toEqual({ name: 'Renamed' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await created.save();
      const update = shop().queries.find((q) => q.operation === 'update')!;
      expect(update.sql).toMatch(/set\s+["`]name["`]\s*=\s*(\$1|\?),\s*["`]updated_at["`]/i);
      expect(update.sql).not.toMatch(/price|sku|stock/);
      expect(created.isDirty()).toBe(false);
      expect(created.updated_at.getTime()).toBeGreaterThan(before);
      expect(created.getChanges().name).toEqual({ before: 'Product D-1', after: 'Renamed' });
      expect(created.wasChanged('name')).toBe(true);
      expect(created.wasChanged('price')).toBe(false);
      expect((await Product.findOrFail(created.id)).name).toBe('Renamed');
    });

    it('sees in-place edits of JSON and dates as dirty', async () => {
      const created = await product('J-1', {
        meta: { tags: ['a'] },
        released_at: new Date('2024-01-01T00:00:00Z'),
      });
      created.meta!.tags!.push('b');
      expect(created.getDirty()).toEqual({ meta: { tags: ['a', 'b'] } });
      await created.save();
      created.released_at!.setUTCFullYear(2030);
      expect(created.isDirty('released_at')).toBe(true);
      await created.save();
      const read = await Product.findOrFail(created.id);
      expect(read.meta).toEqual({ tags: ['a', 'b'] });
      expect(read.released_at?.getUTCFullYear()).toBe(2030);
    });

    it('saves a new instance built with new and fill', async () => {
      const draft = new Product();
      draft.fill({ sku: 'NEW', name: 'New', price: '5' });
      draft.secret = 'kept out of JSON';
      expect(draft.$isPersisted).toBe(false);
      await draft.save();
      expect(draft.$isPersisted).toBe(true);
      expect((await Product.findOrFail(draft.id)).secret).toBe('kept out of JSON');
    });

    it('refreshes from the row, and refresh of a vanished row is E_MODEL_NOT_FOUND', async () => {
      const created = await product('R-1');
      await db()
        .updateTable('products')
        .set({ name: 'changed elsewhere' })
        .where('id', '=', created.id)
        .execute();
      created.name = 'local edit';
      await created.refresh();
      expect(created.name).toBe('changed elsewhere');
      expect(created.isDirty()).toBe(false);
      await db().deleteFrom('products').where('id', '=', created.id).execute();
      expect(await error(created.refresh())).toMatchObject({
        code: 'E_MODEL_NOT_FOUND',
        status: 404,
      });
    });

    it('deletes a model without soft deletes for good', async () => {
      const category = await Category.create({ name: 'Gone' });
      await category.delete();
      expect(category.$isDeleted).toBe(true);
      expect(category.$isPersisted).toBe(false);
      expect(await Category.find(category.id)).toBeNull();
      expect(await error(category.delete())).toMatchObject({ code: 'E_MODEL_NOT_PERSISTED' });
      expect(await error(new Tag().refresh())).toMatchObject({
        code: 'E_MODEL_NOT_PERSISTED',
        status: 500,
      });
    });
  });

  describe('increment and decrement', () => {
    it('changes the column atomically in SQL, never read-modify-write', async () => {
      const created = await product('STOCK');
      const other = await Product.findOrFail(created.id);
      shop().queries.length = 0;
      await created.increment('stock', 5);
      await other.increment('stock', 2);
      expect(other.stock).toBe(7);
      await created.decrement('stock');
      expect(created.stock).toBe(6);
      const update = shop().queries.find((q) => q.operation === 'update')!;
      expect(update.sql).toMatch(/["`]stock["`]\s*=\s*["`]stock["`]\s*\+/i);
      expect((await Product.findOrFail(created.id)).stock).toBe(6);
      expect(created.isDirty()).toBe(false);
      await created.increment('price', 0.25);
      expect(created.price).toBe('20.15');
    });

    it('refuses unknown and non-numeric columns and bad steps', async () => {
      const created = await product('BAD-INC');
      expect(await error(created.increment('nope' as never))).toMatchObject({
        code: 'E_DB_IDENTIFIER_REFUSED',
        status: 400,
      });
      expect(await error(created.increment('sku' as never))).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
      expect(await error(created.increment('stock', 1.5))).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
      expect(await error(created.increment('stock', Number.NaN))).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
      expect(
        await error(created.increment('stock', '1; drop table products' as never)),
      ).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
    });
  });

  describe('timestamps and soft deletes', () => {
    it('soft-deletes, hides trashed rows, and restores them', async () => {
      const kept = await product('KEEP');
      const trashed = await product('TRASH');
      await trashed.delete();
      expect(trashed.isTrashed()).toBe(true);
      expect(trashed.deleted_at).toBeInstanceOf(Date);
      expect(await Product.find(trashed.id)).toBeNull();
      expect(await Product.query().count()).toBe(1);
      expect((await Product.query().withTrashed().all()).map((p) => p.sku).sort()).toEqual([
        'KEEP',
        'TRASH',
      ]);
      expect((await Product.query().onlyTrashed().all()).map((p) => p.sku)).toEqual(['TRASH']);
      await trashed.restore();
      expect(trashed.isTrashed()).toBe(false);
      expect((await Product.findOrFail(trashed.id)).deleted_at).toBeNull();
      await kept.forceDelete();
      expect(await Product.query().withTrashed().where('sku', 'KEEP').first()).toBeNull();
    });

    it('soft-deletes, restores and force-deletes in bulk', async () => {
      await product('B1');
      await product('B2');
      await product('B3');
      expect(await Product.query().whereIn('sku', ['B1', 'B2']).delete()).toBe(2);
      expect(await Product.query().count()).toBe(1);
      expect(await Product.query().onlyTrashed().where('sku', 'B1').restore()).toBe(1);
      expect(await Product.query().count()).toBe(2);
      expect(await Product.query().withTrashed().forceDelete()).toBe(3);
      expect(await Product.query().withTrashed().count()).toBe(0);
    });

    it('refuses soft-delete scopes on models without soft deletes', async () => {
      expect(() => Tag.query().withTrashed()).toThrow(
        expect.objectContaining({ code: 'E_MODEL_DEFINITION_INVALID' }),
      );
      const tag = await Tag.create({ name: 't' });
      expect(await error(tag.restore())).toMatchObject({ code: 'E_MODEL_DEFINITION_INVALID' });
    });

    it('leaves timestamps alone on models without them', async () => {
      const tag = await Tag.create({ name: 'plain' });
      expect(tag.$attributes).toEqual({ id: tag.id, name: 'plain' });
      const order = await Order.create({ status: 'new' });
      expect(order.created_at).toBeInstanceOf(Date);
      expect(order.total).toBe('0.00');
    });
  });

  describe('query', () => {
    beforeEach(async () => {
      for (const [sku, price, active, stock] of [
        ['Q1', '10.00', true, 1],
        ['Q2', '20.00', false, 2],
        ['Q3', '30.00', true, 3],
        ['Q4', '40.00', true, 4],
      ] as const) {
        const p = await product(sku, { price, active });
        if (stock) await p.increment('stock', stock);
      }
    });

    it('filters with operators, groups and null checks, AND binding tighter than OR', async () => {
      const skus = async (query: ReturnType<typeof Product.query>) =>
        (await query.orderBy('sku').all()).map((p) => p.sku);
      expect(await skus(Product.query().where('price', '>=', '20').where('active', true))).toEqual([
        'Q3',
        'Q4',
      ]);
      expect(
        await skus(
          Product.query().where('sku', 'Q1').orWhere('stock', '>', 2).where('active', false),
        ),
      ).toEqual(['Q1']);
      expect(
        await skus(
          Product.query()
            .where('active', true)
            .where((q) => q.where('sku', 'Q1').orWhere('sku', 'Q4')),
        ),
      ).toEqual(['Q1', 'Q4']);
      expect(await skus(Product.query().whereIn('sku', []))).toEqual([]);
      expect(await skus(Product.query().whereNotIn('sku', []))).toHaveLength(4);
      expect(await skus(Product.query().whereNull('meta').where('sku', 'like', 'Q%'))).toHaveLength(
        4,
      );
      expect(await skus(Product.query().whereNotNull('meta'))).toEqual([]);
      expect(await skus(Product.query().where('sku', 'NOT IN', ['Q1', 'Q2']))).toEqual([
        'Q3',
        'Q4',
      ]);
      expect(await Product.query().where('active', true).count()).toBe(3);
      expect(await Product.query().where('sku', 'nope').exists()).toBe(false);
      expect(await Product.query().where('sku', 'Q2').exists()).toBe(true);
      expect(
        (await Product.query().orderBy('price', 'DESC').limit(2).offset(1).all()).map((p) => p.sku),
      ).toEqual(['Q3', 'Q2']);
      expect((await Product.query().orderBy('price').offset(3).all()).map((p) => p.sku)).toEqual([
        'Q4',
      ]);
    });

    it('binds hostile strings as values and refuses hostile identifiers', async () => {
      const hostile = ["' OR '1'='1", 'Q1"; DROP TABLE products; --', '\\', '%', '$1'];
      for (const value of hostile)
        expect(await Product.query().where('sku', value).first()).toBeNull();
      const refused = [
        () => Product.query().orderBy('sku; drop table products'),
        () => Product.query().orderBy('price', 'desc; drop table x'),
        () => Product.query().where('nope' as never, 1),
        () => Product.query().where('sku', '= 1 or 1 =' as never, 'x'),
        () => Product.query().where('__proto__' as never, 1),
      ];
      for (const build of refused)
        expect(build).toThrow(
          expect.objectContaining({ code: 'E_DB_IDENTIFIER_REFUSED', status: 400 }),
        );
      const wrong = [
        () => Product.query().where('stock', 'abc' as never),
        () => Product.query().where('active', 'yes' as never),
        () => Product.query().where('sku', 'in', 'Q1' as never),
        () => Product.query().where('sku', '>', null),
        () => Product.query().where('sku', 'like', 5 as never),
      ];
      for (const build of wrong)
        expect(build).toThrow(expect.objectContaining({ code: 'E_MODEL_INVALID_VALUE' }));
      expect(() => Product.query().limit(-1)).toThrow(
        expect.objectContaining({ code: 'E_MODEL_QUERY_INVALID' }),
      );
      expect(await Product.query().count()).toBe(4);
    });

    it('updates, increments and deletes in bulk without loading models', async () => {
      expect(
        await Product.query().where('active', false).update({ name: 'Inactive', active: true }),
      ).toBe(1);
      expect(await Product.query().where('active', true).count()).toBe(4);
      expect(await Product.query().where('sku', 'in', ['Q1', 'Q2']).increment('stock', 10)).toBe(2);
      expect((await Product.findByOrFail('sku', 'Q2')).stock).toBe(12);
      expect(await error(Product.query().update({ nope: 1 } as never))).toMatchObject({
        code: 'E_DB_IDENTIFIER_REFUSED',
      });
      expect(await error(Product.query().update({ price: 'free' }))).toMatchObject({
        code: 'E_MODEL_INVALID_VALUE',
      });
      expect((await Product.findByOrFail('sku', 'Q1')).price).toBe('10.00');
      expect(Product.query().where('sku', 'Q1').toSQL().parameters).toEqual(['Q1']);
    });

    it('firstOrFail names the model', async () => {
      const missing = await error(Product.query().where('sku', 'none').firstOrFail());
      expect(missing).toMatchObject({ code: 'E_MODEL_NOT_FOUND', status: 404 });
      expect((missing as Error).message).toBe('No Product matches the query');
    });
  });
});
