import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf, increments } from '../../db/index.js';

import {
  PERMISSION_ROLE_TABLE,
  PERMISSIONS_TABLE,
  ROLE_USER_TABLE,
  ROLES_TABLE,
} from '../tables.js';

export { PERMISSION_ROLE_TABLE, PERMISSIONS_TABLE, ROLE_USER_TABLE, ROLES_TABLE };

/**
 * `roles`, `permissions` and their pivots `role_user (role_id, user_id)` and
 * `permission_role (permission_id, role_id)`. Names are unique and compare byte for byte
 * (VARBINARY on MySQL/MariaDB, whose collations would make `Clerk` and `clerk` one role);
 * user ids are stored as text, so integer and UUID user keys both fit. Deleting a role or
 * permission deletes its pivot rows (ON DELETE CASCADE).
 */
export const createRolesTables = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    const ident = (length: number) =>
      mysql ? sql.raw(`varbinary(${length * 4})`) : sql.raw(`varchar(${length})`);
    for (const table of [ROLES_TABLE, PERMISSIONS_TABLE])
      await db.schema
        .createTable(table)
        .$call(increments(db, 'id'))
        .addColumn('name', ident(100), (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    await db.schema
      .createTable(ROLE_USER_TABLE)
      .addColumn('role_id', 'integer', (c) =>
        c.notNull().references(`${ROLES_TABLE}.id`).onDelete('cascade'),
      )
      .addColumn('user_id', ident(255), (c) => c.notNull())
      .addPrimaryKeyConstraint('role_user_primary', ['user_id', 'role_id'])
      .execute();
    await db.schema
      .createTable(PERMISSION_ROLE_TABLE)
      .addColumn('permission_id', 'integer', (c) =>
        c.notNull().references(`${PERMISSIONS_TABLE}.id`).onDelete('cascade'),
      )
      .addColumn('role_id', 'integer', (c) =>
        c.notNull().references(`${ROLES_TABLE}.id`).onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('permission_role_primary', ['role_id', 'permission_id'])
      .execute();
    await db.schema
      .createIndex('permission_role_permission_index')
      .on(PERMISSION_ROLE_TABLE)
      .column('permission_id')
      .execute();
    await db.schema
      .createIndex('role_user_role_index')
      .on(ROLE_USER_TABLE)
      .column('role_id')
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(PERMISSION_ROLE_TABLE).ifExists().execute();
    await db.schema.dropTable(ROLE_USER_TABLE).ifExists().execute();
    await db.schema.dropTable(PERMISSIONS_TABLE).ifExists().execute();
    await db.schema.dropTable(ROLES_TABLE).ifExists().execute();
  },
});
