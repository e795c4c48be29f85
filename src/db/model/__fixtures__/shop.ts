import type { ColumnDefinitionBuilder } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import type { TestDatabase } from '../../../../test/support/databases.js';
import { createNullLogger, type Logger } from '../../../kernel/index.js';
import type { DialectName } from '../../config.js';
import { resolveDatabaseConfig } from '../../config.js';
import type { Connection } from '../../connection.js';
import { DatabaseManager, setDatabaseManager } from '../../database-manager.js';
import type { QueryEvent } from '../../instrumented-dialect.js';
import { column } from '../column.js';
import { defineModel } from '../define-model.js';

export interface ProductMeta {
  color?: string;
  tags?: string[];
  dimensions?: { w: number; h: number };
}

export class Category extends defineModel({
  table: 'categories',
  timestamps: false,
  columns: { id: column.id(), name: column.string() },
  fillable: ['name'],
}) {
  get products() {
    return this.hasMany(() => Product, 'category_id');
  }
}

export class Product extends defineModel({
  table: 'products',
  softDeletes: true,
  columns: {
    id: column.id(),
    sku: column.string(),
    name: column.string(),
    price: column.decimal({ scale: 2 }),
    active: column.boolean().optional(),
    stock: column.integer().optional(),
    meta: column.json<ProductMeta>().nullable(),
    released_at: column.date().nullable(),
    category_id: column.integer().nullable(),
    secret: column.string().nullable(),
  },
  fillable: ['sku', 'name', 'price', 'active', 'meta', 'released_at', 'category_id'],
  hidden: ['secret'],
}) {
  get category() {
    return this.belongsTo(() => Category, 'category_id');
  }

  get tags() {
    return this.manyToMany(() => Tag, { pivotTable: 'product_tag', pivotColumns: ['position'] });
  }

  /** An ordinary getter: not a relation. */
  get label(): string {
    return `${this.sku} (${this.name})`;
  }
}

export class Tag extends defineModel({
  table: 'tags',
  timestamps: false,
  columns: { id: column.id(), name: column.string() },
}) {
  get products() {
    return this.manyToMany(() => Product, 'product_tag');
  }
}

export class Customer extends defineModel({
  table: 'customers',
  timestamps: false,
  columns: { id: column.uuid(), name: column.string(), email: column.string() },
}) {
  get orders() {
    return this.hasMany(() => Order, 'customer_id');
  }

  get profile() {
    return this.hasOne(() => Profile, 'customer_id');
  }
}

export class Profile extends defineModel({
  table: 'profiles',
  timestamps: false,
  columns: { id: column.id(), customer_id: column.string(), bio: column.string() },
}) {}

export class Order extends defineModel({
  table: 'orders',
  columns: {
    id: column.id(),
    customer_id: column.string().nullable(),
    status: column.string().optional(),
    total: column.decimal({ scale: 2 }).optional(),
    placed_at: column.date().nullable(),
  },
  guarded: ['id', 'total'],
}) {
  get customer() {
    return this.belongsTo(() => Customer, 'customer_id');
  }

  get lines() {
    return this.hasMany(() => OrderLine);
  }
}

export class OrderLine extends defineModel({
  table: 'order_lines',
  timestamps: false,
  columns: {
    id: column.id(),
    order_id: column.integer(),
    product_id: column.integer(),
    qty: column.integer(),
  },
}) {
  get order() {
    return this.belongsTo(() => Order);
  }

  get product() {
    return this.belongsTo(() => Product);
  }
}

type Col = ColumnDefinitionBuilder;

/** Column types per engine for the shop tables. */
function types(dialect: DialectName) {
  return {
    id: dialect === 'postgres' ? ('serial' as const) : ('integer' as const),
    idModifier: (c: Col) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    date: dialect === 'postgres' ? 'timestamptz' : dialect === 'mysql' ? 'datetime(3)' : 'text',
    json: dialect === 'postgres' ? 'jsonb' : dialect === 'mysql' ? 'json' : 'text',
    uuid: dialect === 'postgres' ? 'uuid' : 'varchar(36)',
  } as const;
}

/** Create the shop tables with the schema builder (migrations are another helper's work). */
export async function createShopTables(
  connection: Connection,
  dialect: DialectName,
): Promise<void> {
  const t = types(dialect);
  const schema = connection.schema;
  await schema
    .createTable('categories')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .execute();
  await schema
    .createTable('products')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('sku', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('price', 'decimal(10, 2)', (c) => c.notNull())
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('stock', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('meta', t.json)
    .addColumn('released_at', t.date)
    .addColumn('category_id', 'integer', (c) => c.references('categories.id'))
    .addColumn('secret', 'varchar(100)')
    .addColumn('created_at', t.date, (c) => c.notNull())
    .addColumn('updated_at', t.date, (c) => c.notNull())
    .addColumn('deleted_at', t.date)
    .execute();
  await schema
    .createTable('tags')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .execute();
  await schema
    .createTable('product_tag')
    .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
    .addColumn('tag_id', 'integer', (c) => c.notNull().references('tags.id'))
    .addColumn('position', 'integer')
    .addPrimaryKeyConstraint('product_tag_pk', ['product_id', 'tag_id'])
    .execute();
  await schema
    .createTable('customers')
    .addColumn('id', t.uuid, (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('email', 'varchar(200)', (c) => c.notNull())
    .execute();
  await schema
    .createTable('profiles')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('customer_id', t.uuid, (c) => c.notNull().references('customers.id'))
    .addColumn('bio', 'varchar(200)', (c) => c.notNull())
    .execute();
  await schema
    .createTable('orders')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('customer_id', t.uuid, (c) => c.references('customers.id'))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('new'))
    .addColumn('total', 'decimal(12, 2)', (c) => c.notNull().defaultTo(0))
    .addColumn('placed_at', t.date)
    .addColumn('created_at', t.date, (c) => c.notNull())
    .addColumn('updated_at', t.date, (c) => c.notNull())
    .execute();
  await schema
    .createTable('order_lines')
    .addColumn('id', t.id, t.idModifier)
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id'))
    .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
    .addColumn('qty', 'integer', (c) => c.notNull())
    .execute();
}

/** Empty every shop table, children first. */
export async function resetShop(connection: Connection): Promise<void> {
  for (const table of [
    'order_lines',
    'orders',
    'profiles',
    'customers',
    'product_tag',
    'tags',
    'products',
    'categories',
  ])
    await connection.deleteFrom(table).execute();
}

export interface ShopDatabase {
  manager: DatabaseManager;
  connection: Connection;
  /** Statements since the last `queries.length = 0`. */
  queries: QueryEvent[];
}

/**
 * A database manager over the suite's test database, made the one `db()` answers from,
 * with the shop tables created; closed after the suite.
 */
export function useShopDatabase(
  database: () => TestDatabase,
  dialect: DialectName,
  options: {
    logger?: Logger;
    nPlusOne?: { mode: 'off' | 'warn' | 'throw'; threshold: number };
  } = {},
): () => ShopDatabase {
  let shop: ShopDatabase | undefined;
  beforeAll(async () => {
    const config = resolveDatabaseConfig({
      connections: { default: database().config },
      slowQueryMs: 0,
      nPlusOne: options.nPlusOne ?? { mode: 'off', threshold: 5 },
    });
    const manager = new DatabaseManager({
      config,
      root: process.cwd(),
      logger: options.logger ?? createNullLogger(),
    });
    setDatabaseManager(manager);
    const connection = manager.connection();
    const queries: QueryEvent[] = [];
    connection.onQuery((event) => queries.push(event));
    await createShopTables(connection, dialect);
    shop = { manager, connection, queries };
  });
  afterAll(async () => {
    setDatabaseManager(undefined);
    await shop?.manager.close();
  });
  return () => {
    if (!shop) throw new Error('the shop database is created in beforeAll');
    return shop;
  };
}

/** What `promise` (or `fn`) rejected or threw with; fails the test when it settles fine. */
export async function error(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
