import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { db } from '../database-manager.js';
import { Category, error, Product, resetShop, useShopDatabase } from './__fixtures__/shop.js';
import { type ModelEvent, onModelEvent } from './model-events.js';

describeEachDialect('Model events', (database, dialect) => {
  const shop = useShopDatabase(database, dialect);
  const offs: Array<() => void> = [];
  let seen: ModelEvent[];

  beforeAll(async () => {
    await shop()
      .connection.schema.createTable('audit')
      .addColumn('model', 'varchar(50)', (c) => c.notNull())
      .addColumn('event', 'varchar(20)', (c) => c.notNull())
      .addColumn('changes', 'text', (c) => c.notNull())
      .execute();
  });

  beforeEach(async () => {
    await resetShop(shop().connection);
    await db().deleteFrom('audit').execute();
    seen = [];
  });

  afterEach(() => {
    for (const off of offs.splice(0)) off();
  });

  function record(event: ModelEvent): void {
    seen.push(event);
  }

  async function audit(): Promise<Array<{ event: string; changes: Record<string, unknown> }>> {
    const rows = (await db().selectFrom('audit').selectAll().execute()) as Array<{
      event: string;
      changes: string;
    }>;
    return rows.map((r) => ({ event: r.event, changes: JSON.parse(r.changes) }));
  }

  /** The future audit log: one row per event, written with the model's own transaction. */
  function auditLog(): () => void {
    return onModelEvent(async (event) => {
      if (!event.type.endsWith('ed')) return;
      await db()
        .insertInto('audit')
        .values({
          model: event.modelName,
          event: event.type,
          changes: JSON.stringify(event.changes),
        })
        .execute();
    });
  }

  it('fires saving, creating, created, saved on create; saving, updating, updated, saved on update', async () => {
    for (const type of ['saving', 'creating', 'created', 'updating', 'updated', 'saved'] as const)
      offs.push(Product.on(type, record));
    const product = await Product.create({ sku: 'E-1', name: 'One', price: '1.00' });
    expect(seen.map((e) => e.type)).toEqual(['saving', 'creating', 'created', 'saved']);
    const created = seen[2]!;
    expect(created.model).toBe(product);
    expect(created.modelName).toBe('Product');
    expect(created.table).toBe('products');
    expect(created.connection).toBe('default');
    expect(created.changes.sku).toEqual({ before: null, after: 'E-1' });
    seen = [];
    product.price = '2.50';
    product.name = 'Renamed';
    await product.save();
    expect(seen.map((e) => e.type)).toEqual(['saving', 'updating', 'updated', 'saved']);
    const updated = seen[2]! as ModelEvent<Product>;
    expect(updated.changes.price).toEqual({ before: '1.00', after: '2.50' });
    expect(updated.changes.name).toEqual({ before: 'One', after: 'Renamed' });
    expect(updated.changes.updated_at?.after).toBeInstanceOf(Date);
    expect(Object.keys(updated.changes).sort()).toEqual(['name', 'price', 'updated_at']);
    expect(Object.isFrozen(updated)).toBe(true);
  });

  it('fires deleting/deleted (soft and forced) and restoring/restored with their changes', async () => {
    for (const type of ['deleting', 'deleted', 'restoring', 'restored'] as const)
      offs.push(Product.on(type, record));
    const product = await Product.create({ sku: 'E-2', name: 'Two', price: '1.00' });
    await product.delete();
    expect(seen.map((e) => [e.type, e.soft])).toEqual([
      ['deleting', true],
      ['deleted', true],
    ]);
    expect(seen[1]!.changes).toHaveProperty('deleted_at');
    seen = [];
    await product.restore();
    expect(seen.map((e) => e.type)).toEqual(['restoring', 'restored']);
    expect((seen[1]! as ModelEvent<Product>).changes.deleted_at?.after).toBeNull();
    seen = [];
    await product.forceDelete();
    expect(seen.map((e) => [e.type, e.soft])).toEqual([
      ['deleting', false],
      ['deleted', false],
    ]);
  });

  it('cancels a create, update or delete when a -ing listener throws', async () => {
    const off = Product.on('creating', ({ model }) => {
      if ((model as Product).sku === 'BLOCKED') throw new Error('not this one');
    });
    offs.push(off);
    expect(await error(Product.create({ sku: 'BLOCKED', name: 'x', price: '1' }))).toMatchObject({
      message: 'not this one',
    });
    expect(await Product.query().count()).toBe(0);
    off();
    const product = await Product.create({ sku: 'OK', name: 'x', price: '1' });
    offs.push(
      Product.on('updating', ({ changes }) => {
        if ((changes as Record<string, unknown>).price) throw new Error('price is frozen');
      }),
      Product.on('deleting', () => {
        throw new Error('never delete');
      }),
    );
    product.price = '9';
    expect(await error(product.save())).toMatchObject({ message: 'price is frozen' });
    expect((await Product.findOrFail(product.id)).price).toBe('1.00');
    expect(await error(product.delete())).toMatchObject({ message: 'never delete' });
    expect(await Product.find(product.id)).not.toBeNull();
  });

  it('lets an updating listener change more fields before the write', async () => {
    offs.push(
      Product.on('updating', ({ model }) => {
        (model as Product).name = `${(model as Product).name} (edited)`;
      }),
      Product.on('updated', record),
    );
    const product = await Product.create({ sku: 'E-3', name: 'Three', price: '1' });
    product.price = '3';
    await product.save();
    expect((await Product.findOrFail(product.id)).name).toBe('Three (edited)');
    expect(Object.keys(seen[0]!.changes)).toContain('name');
  });

  it('runs global listeners for every model, after the model’s own', async () => {
    const order: string[] = [];
    offs.push(
      onModelEvent((event) => {
        order.push(`global:${event.modelName}:${event.type}`);
      }),
      Category.on('created', () => {
        order.push('own:Category:created');
      }),
    );
    await Category.create({ name: 'c' });
    expect(order).toEqual([
      'global:Category:saving',
      'global:Category:creating',
      'own:Category:created',
      'global:Category:created',
      'global:Category:saved',
    ]);
  });

  it('writes audit rows in the model’s transaction: committed together', async () => {
    offs.push(auditLog());
    const product = await Product.create({ sku: 'AUD', name: 'Audited', price: '5.00' });
    product.price = '6.00';
    await product.save();
    await product.increment('stock', 3);
    const rows = await audit();
    expect(rows.map((r) => r.event)).toEqual(['created', 'saved', 'updated', 'saved', 'updated']);
    expect(rows[2]!.changes.price).toEqual({ before: '5.00', after: '6.00' });
    expect(rows[4]!.changes.stock).toEqual({ before: 0, after: 3 });
  });

  it('rolls audit rows back with the data when the ambient transaction fails', async () => {
    offs.push(auditLog());
    await error(
      db().transaction(async () => {
        await Product.create({ sku: 'ROLLBACK', name: 'x', price: '1' });
        throw new Error('checkout failed');
      }),
    );
    expect(await Product.query().count()).toBe(0);
    expect(await audit()).toEqual([]);
  });

  it('rolls the change back when an after-listener fails (the write and its listeners are one transaction)', async () => {
    offs.push(auditLog());
    const product = await Product.create({ sku: 'ATOMIC', name: 'x', price: '1.00' });
    offs.push(
      Product.on('updated', () => {
        throw new Error('audit sink down');
      }),
    );
    product.price = '2.00';
    expect(await error(product.save())).toMatchObject({ message: 'audit sink down' });
    expect((await Product.findOrFail(product.id)).price).toBe('1.00');
    expect((await audit()).map((r) => r.event)).toEqual(['created', 'saved']);
  });

  it('opens no transaction when nothing listens', async () => {
    shop().queries.length = 0;
    await Category.create({ name: 'quiet' });
    expect(shop().queries.some((q) => q.operation === 'transaction')).toBe(false);
    offs.push(onModelEvent(() => undefined));
    shop().queries.length = 0;
    await Category.create({ name: 'heard' });
    expect(shop().queries.some((q) => q.operation === 'transaction')).toBe(true);
  });

  it('unsubscribes and refuses unknown event names', () => {
    expect(() => Product.on('exploded' as never, record)).toThrow(TypeError);
    const off = Product.on('created', record);
    off();
    off();
  });
});
