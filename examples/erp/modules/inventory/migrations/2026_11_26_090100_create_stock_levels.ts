import { defineMigration, sql, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('stock_levels')
      .addColumn('sku', 'varchar(32)', (c) => c.primaryKey().references('products.sku'))
      .addColumn('on_hand', 'integer', (c) => c.notNull().defaultTo(0))
      .$call(timestamps(db))
      .addCheckConstraint('stock_levels_on_hand_not_negative', sql`on_hand >= 0`)
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('stock_levels').execute();
  },
});
