import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Category,
  Customer,
  Order,
  OrderLine,
  Product,
  type ProductMeta,
  Tag,
} from './__fixtures__/shop.js';
import { BaseModel } from './base-model.js';
import { column } from './column.js';
import { defineModel } from './define-model.js';
import type { ModelEvent } from './model-events.js';
import type { ModelQuery } from './model-query.js';
import type { ColumnName, NumericColumn, RelationName, RelationPath } from './model-types.js';

describe('defineModel types', () => {
  it('types attributes from the columns, managed columns included', () => {
    const product = new Product();
    expectTypeOf(product.id).toEqualTypeOf<number>();
    expectTypeOf(product.sku).toEqualTypeOf<string>();
    expectTypeOf(product.price).toEqualTypeOf<string>();
    expectTypeOf(product.active).toEqualTypeOf<boolean>();
    expectTypeOf(product.meta).toEqualTypeOf<ProductMeta | null>();
    expectTypeOf(product.released_at).toEqualTypeOf<Date | null>();
    expectTypeOf(product.created_at).toEqualTypeOf<Date>();
    expectTypeOf(product.updated_at).toEqualTypeOf<Date>();
    expectTypeOf(product.deleted_at).toEqualTypeOf<Date | null>();
    expectTypeOf(product.label).toEqualTypeOf<string>();
    // Tag has timestamps: false and no soft deletes.
    expectTypeOf<ColumnName<Tag>>().toEqualTypeOf<'id' | 'name'>();
    expectTypeOf<ColumnName<Customer>>().toEqualTypeOf<'id' | 'name' | 'email'>();
  });

  it('types find, create, fill and the query face', () => {
    // Compile-time assertions (tsc checks them); running them would query the database.
    const assertions = () => {
      expectTypeOf(Product.find).toBeCallableWith(1);
      expectTypeOf(Product.find).toBeCallableWith('1');
      expectTypeOf(Product.find(1)).resolves.toEqualTypeOf<Product | null>();
      expectTypeOf(Product.findOrFail(1)).resolves.toEqualTypeOf<Product>();
      expectTypeOf(Customer.find('0b9f...')).resolves.toEqualTypeOf<Customer | null>();
      expectTypeOf(Product.query()).toEqualTypeOf<ModelQuery<Product>>();
      expectTypeOf(
        Product.query().where('active', true).first(),
      ).resolves.toEqualTypeOf<Product | null>();
      expectTypeOf(Product.query().all()).resolves.toEqualTypeOf<Product[]>();
      // create: required fillable columns, optional ones, inputs (dates as strings, decimals as numbers).
      expectTypeOf(Product.create).toBeCallableWith({ sku: 'a', name: 'A', price: '1.00' });
      expectTypeOf(Product.create).toBeCallableWith({
        sku: 'a',
        name: 'A',
        price: 1.5,
        released_at: '2024-01-01',
        meta: { color: 'red' },
      });
      // @ts-expect-error: price is required
      void Product.create({ sku: 'a', name: 'A' });
      // @ts-expect-error: secret is not fillable
      void Product.create({ sku: 'a', name: 'A', price: '1', secret: 'x' });
      // @ts-expect-error: wrong type
      void Product.create({ sku: 'a', name: 'A', price: '1', active: 'yes' });
      // Order is guarded: ['id', 'total']: everything else (but timestamps) is fillable.
      expectTypeOf(Order.create).toBeCallableWith({ customer_id: null, status: 'paid' });
      // @ts-expect-error: total is guarded
      void Order.create({ total: '10.00' });
      // @ts-expect-error: unknown column
      void Product.query().where('nope', 1);
      // @ts-expect-error: wrong value type for the column
      void Product.query().where('stock', '>', { a: 1 });
      expectTypeOf<NumericColumn<Product>>().toEqualTypeOf<
        'id' | 'price' | 'stock' | 'category_id'
      >();
    };
    expect(assertions).toBeTypeOf('function');
  });

  it('types relations, nested paths and events', () => {
    // Compile-time assertions (tsc checks them); running them would query the database.
    const assertions = () => {
      expectTypeOf<RelationName<Order>>().toEqualTypeOf<'customer' | 'lines'>();
      expectTypeOf<RelationName<Product>>().toEqualTypeOf<'category' | 'tags'>();
      const order = new Order();
      expectTypeOf(order.lines).toEqualTypeOf<OrderLine[]>();
      expectTypeOf(order.customer).toEqualTypeOf<Customer | null>();
      expectTypeOf(order.related('lines')).resolves.toEqualTypeOf<OrderLine[]>();
      expectTypeOf<'lines.product.category'>().toExtend<RelationPath<Order>>();
      expectTypeOf(Order.query().with).toBeCallableWith('lines.product', 'customer');
      // @ts-expect-error: no such relation
      void Order.query().with('nope');
      // @ts-expect-error: no such nested relation
      void Order.query().with('lines.nope');
      Order.query().with('lines', (q) => {
        expectTypeOf(q).toEqualTypeOf<ModelQuery<OrderLine>>();
        q.where('qty', '>', 1);
      });
      Product.on('updated', (event) => {
        expectTypeOf(event).toEqualTypeOf<ModelEvent<Product>>();
        expectTypeOf(event.changes.price).toEqualTypeOf<
          { before: string | null; after: string } | undefined
        >();
      });
      expectTypeOf(new Category().products).toEqualTypeOf<Product[]>();
    };
    expect(assertions).toBeTypeOf('function');
  });
});

describe('defineModel checks the definition', () => {
  const invalid = (definition: unknown) => {
    try {
      defineModel(definition as never);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('refuses bad tables, columns, keys and lists with E_MODEL_DEFINITION_INVALID', () => {
    const base = { table: 'things', columns: { id: column.id(), name: column.string() } };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, table: 'things; drop table x' }, /not a plain table name/],
      [{ ...base, columns: {} }, /no columns/],
      [{ ...base, columns: { id: column.id(), 'bad name': column.string() } }, /not an identifier/],
      [{ ...base, columns: { id: column.id(), save: column.string() } }, /clashes/],
      [{ ...base, columns: { id: column.id(), $x: column.string() } }, /not an identifier|clashes/],
      [{ ...base, columns: { id: 'string' } }, /not a column/],
      [{ ...base, primaryKey: 'uuid' }, /primary key "uuid"/],
      [{ ...base, fillable: ['name', 'nope'] }, /fillable names "nope"/],
      [{ ...base, hidden: ['secret'] }, /hidden names "secret"/],
      [
        { ...base, columns: { ...base.columns, created_at: column.string() } },
        /must be a column.date/,
      ],
      [
        { ...base, softDeletes: true, columns: { ...base.columns, deleted_at: column.date() } },
        /must be nullable/,
      ],
    ];
    for (const [definition, message] of cases) {
      const error = invalid(definition);
      expect(error, String(message)).toMatchObject({
        code: 'E_MODEL_DEFINITION_INVALID',
        status: 500,
      });
      expect((error as Error).message).toMatch(message);
    }
  });

  it('refuses class fields that shadow columns, at boot', () => {
    class Shadow extends defineModel({
      table: 'shadows',
      timestamps: false,
      columns: { id: column.id(), name: column.string() },
    }) {
      // biome-ignore lint/suspicious/noExplicitAny: the mistake under test
      override name: any = 'x';
    }
    expect(() => new Shadow()).toThrow(
      expect.objectContaining({ code: 'E_MODEL_DEFINITION_INVALID' }),
    );
    expect(() => new Shadow()).toThrow(/declare name/);
  });

  it('names the model after the class, and precomputes fillable and managed columns', () => {
    expect(Product.modelName).toBe('Product');
    expect(Product.table).toBe('products');
    expect(Product.primaryKey).toBe('id');
    expect(OrderLine.modelName).toBe('OrderLine');
    const Plain = defineModel({ table: 'order_items', columns: { id: column.id() } });
    expect(Plain.name).toBe('OrderItem');
    expect(new Plain()).toBeInstanceOf(BaseModel);
    expect(Product.column('sku')).toBe('sku');
    expect(() => Product.column('sku; drop table')).toThrow(
      expect.objectContaining({ code: 'E_DB_IDENTIFIER_REFUSED', status: 400 }),
    );
  });

  it('reports relation helpers called outside a relation getter', () => {
    const model = new Product() as unknown as { hasMany: (t: () => unknown) => unknown };
    expect(() => model.hasMany(() => Tag)).toThrow(
      expect.objectContaining({ code: 'E_MODEL_DEFINITION_INVALID' }),
    );
  });

  it('rejects mass assignment of unknown and guarded fields, naming them, with 422', () => {
    const error = (() => {
      try {
        new Product({ sku: 'a', secret: 'x', __proto__: 1, 'id; drop': 2 } as never);
      } catch (e) {
        return e as Error & { details: { fields: string[] } };
      }
    })();
    expect(error).toMatchObject({ code: 'E_MASS_ASSIGNMENT', status: 422 });
    expect(error!.message).toContain('"secret"');
    expect(error!.message).toContain('"id; drop"');
    expect(error!.details.fields).toEqual(['secret', 'id; drop']);
    // JSON bodies have own __proto__ keys: refused, never assigned to the prototype.
    const poisoned = JSON.parse('{"sku":"a","__proto__":{"admin":true}}');
    expect(() => new Product(poisoned)).toThrow(
      expect.objectContaining({ code: 'E_MASS_ASSIGNMENT' }),
    );
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
  });

  it('checks values on fill and on assignment, atomically', () => {
    const product = new Product({ sku: 'a', price: 3 });
    expect(product.price).toBe('3');
    expect(() => product.fill({ name: 'ok', price: 'ten' })).toThrow(
      expect.objectContaining({ code: 'E_MODEL_INVALID_VALUE', status: 422 }),
    );
    expect(product.name).toBeUndefined();
    const wrong: Array<[string, unknown]> = [
      ['price', { amount: 1 }],
      ['price', '1e5'],
      ['active', 'yes'],
      ['active', 2],
      ['released_at', 'yesterday'],
      ['released_at', new Date('nope')],
      ['category_id', 1.5],
      ['category_id', '12abc'],
      ['sku', 42],
      ['sku', null],
      ['meta', () => 1],
    ];
    for (const [field, value] of wrong)
      expect(() => product.fill({ [field]: value } as never), `${field}=${String(value)}`).toThrow(
        expect.objectContaining({ code: 'E_MODEL_INVALID_VALUE' }),
      );
    expect(() => {
      (product as { stock: unknown }).stock = 'many';
    }).toThrow(/Product.stock expects an integer, got a string of 4 characters/);
    product.fill({ released_at: '2024-03-01T10:00:00+02:00', category_id: '7', active: 1 });
    expect(product.released_at).toEqual(new Date('2024-03-01T08:00:00Z'));
    expect(product.category_id).toBe(7);
    expect(product.active).toBe(true);
  });

  it('hides hidden fields and serializes dates as ISO strings', () => {
    const product = new Product({ sku: 'a', released_at: new Date('2024-01-02T03:04:05.006Z') });
    product.secret = 'token';
    expect(product.toJSON()).toEqual({ sku: 'a', released_at: '2024-01-02T03:04:05.006Z' });
    expect(JSON.stringify(product)).not.toContain('token');
  });

  it('throws E_MODEL_RELATION_NOT_LOADED for a relation read before loading', () => {
    const order = new Order();
    expect(() => order.lines).toThrow(
      expect.objectContaining({ code: 'E_MODEL_RELATION_NOT_LOADED', status: 500 }),
    );
    expect(() => order.lines).toThrow(/Order.lines is not loaded/);
    expect(order.isLoaded('lines')).toBe(false);
  });
});
