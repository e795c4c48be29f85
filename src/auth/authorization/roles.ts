import type { InsertQueryBuilder, InsertResult, Kysely } from 'kysely';
import type { Connection } from '../../db/index.js';
import { E_AUTH_USER_ID_INVALID, E_INVALID_ROLE_NAME, E_ROLE_NOT_FOUND } from '../errors.js';
import {
  PERMISSION_ROLE_TABLE,
  PERMISSIONS_TABLE,
  ROLE_USER_TABLE,
  ROLES_TABLE,
} from '../tables.js';
import type { UserId } from '../user-provider.js';

interface RolesSchema {
  roles: { id: number; name: string | Buffer; created_at: number };
  permissions: { id: number; name: string | Buffer; created_at: number };
  role_user: { role_id: number; user_id: string | Buffer };
  permission_role: { permission_id: number; role_id: number };
}

export interface RolesOptions {
  connection: () => Connection;
  /** The id of a user object (default `user.id`). */
  idOf?: (user: object) => UserId;
  now?: () => number;
}

const NAME = /^[A-Za-z0-9._:*-]{1,100}$/;

/**
 * Roles and permissions in the framework tables (`roles`, `permissions`, `role_user`,
 * `permission_role`). A user holds roles; a role holds permissions; a user can do a
 * permission when one of its roles holds it, `*`, or a `prefix.*` covering it.
 *
 * @example
 * ```ts
 * await roles.grant('clerk', 'orders.create');
 * await roles.assign(user, 'clerk');
 * await roles.userCan(user, 'orders.create'); // true
 * ```
 */
export class Roles {
  readonly #connection: () => Connection;
  readonly #idOf: (user: object) => UserId;
  readonly #now: () => number;

  constructor(options: RolesOptions) {
    this.#connection = options.connection;
    this.#idOf = options.idOf ?? ((user) => (user as { id: UserId }).id);
    this.#now = options.now ?? Date.now;
  }

  get #db(): Kysely<RolesSchema> {
    return this.#connection().db as unknown as Kysely<RolesSchema>;
  }

  /** Create a role (nothing when it exists). */
  async create(role: string): Promise<void> {
    await this.#ensure(ROLES_TABLE, checkName('role', role));
  }

  /** Delete a role, its assignments and grants; false when there was none. */
  async delete(role: string): Promise<boolean> {
    checkName('role', role);
    // Pivots first: not every connection enforces ON DELETE CASCADE (SQLite without
    // foreign_keys), and the rows must not outlive the role.
    const id = await this.#id(ROLES_TABLE, role);
    if (id === undefined) return false;
    await this.#connection().transaction(async () => {
      await this.#db.deleteFrom(ROLE_USER_TABLE).where('role_id', '=', id).execute();
      await this.#db.deleteFrom(PERMISSION_ROLE_TABLE).where('role_id', '=', id).execute();
      await this.#db.deleteFrom(ROLES_TABLE).where('id', '=', id).execute();
    });
    return true;
  }

  /** Every role's name, sorted. */
  async all(): Promise<string[]> {
    const rows = await this.#db.selectFrom(ROLES_TABLE).select('name').execute();
    return rows.map((r) => text(r.name)).sort();
  }

  /** Give `user` the role (which must exist: E_ROLE_NOT_FOUND). Idempotent. */
  async assign(user: object | UserId, role: string): Promise<void> {
    const userId = this.#userKey(user);
    const roleId = await this.#id(ROLES_TABLE, checkName('role', role));
    if (roleId === undefined) throw new E_ROLE_NOT_FOUND(role);
    await this.#insertIgnore(
      this.#db.insertInto(ROLE_USER_TABLE).values({ role_id: roleId, user_id: userId }),
      ['user_id', 'role_id'],
    );
  }

  /** Take the role from `user`; false when the user did not hold it. */
  async unassign(user: object | UserId, role: string): Promise<boolean> {
    const roleId = await this.#id(ROLES_TABLE, checkName('role', role));
    if (roleId === undefined) return false;
    const result = await this.#db
      .deleteFrom(ROLE_USER_TABLE)
      .where('role_id', '=', roleId)
      .where('user_id', '=', this.#userKey(user))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Let the role do `permission`, creating either when missing. Idempotent. */
  async grant(role: string, permission: string): Promise<void> {
    checkName('role', role);
    checkName('permission', permission);
    await this.#connection().transaction(async () => {
      const roleId = await this.#ensure(ROLES_TABLE, role);
      const permissionId = await this.#ensure(PERMISSIONS_TABLE, permission);
      await this.#insertIgnore(
        this.#db
          .insertInto(PERMISSION_ROLE_TABLE)
          .values({ role_id: roleId, permission_id: permissionId }),
        ['role_id', 'permission_id'],
      );
    });
  }

  /** Take `permission` from the role; false when it did not hold it. */
  async revoke(role: string, permission: string): Promise<boolean> {
    const roleId = await this.#id(ROLES_TABLE, checkName('role', role));
    const permissionId = await this.#id(PERMISSIONS_TABLE, checkName('permission', permission));
    if (roleId === undefined || permissionId === undefined) return false;
    const result = await this.#db
      .deleteFrom(PERMISSION_ROLE_TABLE)
      .where('role_id', '=', roleId)
      .where('permission_id', '=', permissionId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The role names of `user`, sorted. */
  async rolesOf(user: object | UserId): Promise<string[]> {
    const rows = await this.#db
      .selectFrom(ROLE_USER_TABLE)
      .innerJoin(ROLES_TABLE, 'roles.id', 'role_user.role_id')
      .select('roles.name')
      .where('role_user.user_id', '=', this.#userKey(user))
      .execute();
    return rows.map((r) => text(r.name)).sort();
  }

  async hasRole(user: object | UserId, role: string): Promise<boolean> {
    return (await this.rolesOf(user)).includes(role);
  }

  /** The permissions `user` holds through its roles (one query). */
  async permissionsOf(user: object | UserId): Promise<Set<string>> {
    const rows = await this.#db
      .selectFrom(ROLE_USER_TABLE)
      .innerJoin(PERMISSION_ROLE_TABLE, 'permission_role.role_id', 'role_user.role_id')
      .innerJoin(PERMISSIONS_TABLE, 'permissions.id', 'permission_role.permission_id')
      .select('permissions.name')
      .distinct()
      .where('role_user.user_id', '=', this.#userKey(user))
      .execute();
    return new Set(rows.map((r) => text(r.name)));
  }

  /** The permissions a role holds, sorted. */
  async permissionsOfRole(role: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom(PERMISSION_ROLE_TABLE)
      .innerJoin(ROLES_TABLE, 'roles.id', 'permission_role.role_id')
      .innerJoin(PERMISSIONS_TABLE, 'permissions.id', 'permission_role.permission_id')
      .select('permissions.name')
      .where('roles.name', '=', checkName('role', role))
      .execute();
    return rows.map((r) => text(r.name)).sort();
  }

  /** True when `user` can do `permission` (uncached: `ctx.auth` caches per request). */
  async userCan(user: object | UserId, permission: string): Promise<boolean> {
    return permits(await this.permissionsOf(user), permission);
  }

  async #id(table: 'roles' | 'permissions', name: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom(table)
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.id);
  }

  async #ensure(table: 'roles' | 'permissions', name: string): Promise<number> {
    await this.#insertIgnore(
      this.#db.insertInto(table).values({ name, created_at: this.#now() } as never),
      ['name'],
    );
    return (await this.#id(table, name)) as number;
  }

  // One statement either way: two processes granting the same role at once both succeed.
  async #insertIgnore<T extends keyof RolesSchema>(
    query: InsertQueryBuilder<RolesSchema, T, InsertResult>,
    columns: string[],
  ): Promise<void> {
    const built =
      this.#connection().dialect === 'mysql'
        ? query.ignore()
        : query.onConflict((oc) => oc.columns(columns as never).doNothing());
    await built.execute();
  }

  #userKey(user: object | UserId): string {
    const id = typeof user === 'object' && user !== null ? this.#idOf(user) : user;
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    if (typeof id === 'string' && id.length > 0 && id.length <= 255) return id;
    throw new E_AUTH_USER_ID_INVALID(
      typeof id === 'string' ? `a string of ${id.length} characters` : typeof id,
    );
  }
}

/** True when the held permissions cover `permission`: exactly, by `*`, or by `prefix.*`. */
export function permits(held: ReadonlySet<string>, permission: string): boolean {
  if (held.has(permission) || held.has('*')) return true;
  for (let dot = permission.lastIndexOf('.'); dot > 0; dot = permission.lastIndexOf('.', dot - 1))
    if (held.has(`${permission.slice(0, dot)}.*`)) return true;
  return false;
}

function checkName(kind: 'role' | 'permission', name: string): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new E_INVALID_ROLE_NAME(kind, String(name));
  return name;
}

function text(value: string | Buffer): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}
