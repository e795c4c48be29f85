import { ScryptHasher } from 'keel/auth';
import { defineSeeder } from 'keel/db';

/**
 * The demo's two users and what each may do (`db:seed` twice changes nothing):
 *
 * - admin@erp.test / `admin-password`: role `admin`, every permission (`*`);
 * - clerk@erp.test / `clerk-password`: role `clerk`, may browse the catalog and stock and
 *   place orders, but not change products or receive stock.
 */
export const DEMO_USERS = [
  { email: 'admin@erp.test', name: 'Ada Admin', password: 'admin-password', role: 'admin' },
  { email: 'clerk@erp.test', name: 'Carl Clerk', password: 'clerk-password', role: 'clerk' },
] as const;

const PERMISSIONS: Record<string, string[]> = {
  admin: ['*'],
  clerk: ['orders.view', 'orders.place'],
};

export default defineSeeder({
  environments: ['development', 'test'],
  async run({ db, env, insertMissing }) {
    // Tests seed a fresh database each time: a cheaper hash there (it still verifies the
    // same way; a login re-hashes it with the configured parameters).
    const hasher = new ScryptHasher(env === 'test' ? { ln: 10 } : {});
    const existing = new Set(
      (await db.selectFrom('users').select('email').execute()).map((row) => row.email as string),
    );
    const now = new Date().toISOString();
    for (const user of DEMO_USERS) {
      if (existing.has(user.email)) continue;
      await db
        .insertInto('users')
        .values({
          email: user.email,
          name: user.name,
          password: await hasher.make(user.password),
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    // Roles and permissions live in keel/auth's framework tables (keel migrate made them).
    const at = Date.now();
    await insertMissing(
      'roles',
      Object.keys(PERMISSIONS).map((name) => ({ name, created_at: at })),
      'name',
    );
    const permissions = [...new Set(Object.values(PERMISSIONS).flat())];
    await insertMissing(
      'permissions',
      permissions.map((name) => ({ name, created_at: at })),
      'name',
    );
    const ids = async (table: string, names: string[]) =>
      new Map(
        (
          await db.selectFrom(table).select(['id', 'name']).where('name', 'in', names).execute()
        ).map((row) => [row.name as string, Number(row.id)]),
      );
    const roleIds = await ids('roles', Object.keys(PERMISSIONS));
    const permissionIds = await ids('permissions', permissions);
    await insertMissing(
      'permission_role',
      Object.entries(PERMISSIONS).flatMap(([role, names]) =>
        names.map((name) => ({
          role_id: roleIds.get(role),
          permission_id: permissionIds.get(name),
        })),
      ),
      ['role_id', 'permission_id'],
    );
    const userIds = new Map(
      (await db.selectFrom('users').select(['id', 'email']).execute()).map((row) => [
        row.email as string,
        String(row.id),
      ]),
    );
    await insertMissing(
      'role_user',
      DEMO_USERS.map((user) => ({
        role_id: roleIds.get(user.role),
        user_id: userIds.get(user.email),
      })),
      ['role_id', 'user_id'],
    );
  },
});
