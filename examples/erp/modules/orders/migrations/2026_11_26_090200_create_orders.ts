import { defineMigration, increments, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('orders')
      .$call(increments(db))
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .$call(timestamps(db))
      .execute();
    await db.schema
      .createTable('order_lines')
      .$call(increments(db))
      .addColumn('order_id', 'integer', (c) =>
        c.notNull().references('orders.id').onDelete('cascade'),
      )
      .addColumn('sku', 'varchar(32)', (c) => c.notNull().references('products.sku'))
      .addColumn('quantity', 'integer', (c) => c.notNull())
      .addColumn('unit_price', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('order_lines_order_id_index')
      .on('order_lines')
      .column('order_id')
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('order_lines').execute();
    await db.schema.dropTable('orders').execute();
  },
});
