import { defineMigration, increments, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('products')
      .$call(increments(db))
      .addColumn('sku', 'varchar(32)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      // Minor units (cents) in the catalog currency: integers, never floats.
      .addColumn('price', 'integer', (c) => c.notNull())
      .$call(timestamps(db))
      .addColumn('deleted_at', 'varchar(40)')
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('products').execute();
  },
});
