import { defineMigration, increments, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('users')
      .$call(increments(db))
      .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      // What keel/auth's hasher made: a scrypt PHC string, never the password.
      .addColumn('password', 'varchar(255)', (c) => c.notNull())
      .$call(timestamps(db))
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('users').execute();
  },
});
