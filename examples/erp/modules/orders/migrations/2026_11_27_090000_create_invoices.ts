import { defineMigration, increments } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('invoices')
      .$call(increments(db))
      // One invoice per order: a job that runs twice cannot issue a second one.
      .addColumn('order_id', 'integer', (c) =>
        c.notNull().unique().references('orders.id').onDelete('cascade'),
      )
      .addColumn('number', 'varchar(32)', (c) => c.notNull().unique())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('issued_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('daily_reports')
      .$call(increments(db))
      .addColumn('day', 'varchar(10)', (c) => c.notNull().unique())
      .addColumn('orders', 'integer', (c) => c.notNull())
      .addColumn('revenue', 'integer', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('daily_reports').execute();
    await db.schema.dropTable('invoices').execute();
  },
});
