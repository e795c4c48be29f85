import type { Kysely } from 'kysely';
import type { Connection } from '../db/index.js';

/** A user's id as auth stores it (sessions, `api_tokens.user_id`, `role_user.user_id`). */
export type UserId = string | number;

/** The credentials a login form or API sends: an identifier field and the password. */
export type Credentials = Record<string, unknown> & { password?: unknown };

/**
 * How auth finds the application's users: by id (sessions, tokens) and by credentials
 * without the password (login). The password hash is read from the user found; auth
 * verifies it, so a provider never compares passwords itself.
 *
 * @example
 * ```ts
 * // config/auth.ts
 * export default {
 *   users: {
 *     findById: (id) => db().selectFrom('users').selectAll().where('id', '=', Number(id)).executeTakeFirst(),
 *     findByCredentials: ({ email }) =>
 *       db().selectFrom('users').selectAll().where('email', '=', String(email)).executeTakeFirst(),
 *     updatePasswordHash: (user, hash) =>
 *       db().updateTable('users').set({ password: hash }).where('id', '=', user.id).execute(),
 *   },
 * };
 * ```
 */
export interface UserProvider<User = AuthUser> {
  findById(id: UserId): Promise<User | undefined> | User | undefined;
  /** The user the identifying fields name (`{ email }`): never given the password. */
  findByCredentials(
    credentials: Readonly<Record<string, unknown>>,
  ): Promise<User | undefined> | User | undefined;
  /** The user's id; default `user.id`. */
  idOf?(user: User): UserId;
  /** The stored password hash; default `user.password`. */
  passwordHashOf?(user: User): string | null | undefined;
  /** Store a new hash (rehash on login after the hashing parameters changed); optional. */
  updatePasswordHash?(user: User, hash: string): Promise<void> | void;
}

/** The shape auth assumes when a provider gives no `idOf`/`passwordHashOf`. */
export interface AuthUser {
  id: UserId;
  password?: string | null;
  [key: string]: unknown;
}

/** A user table read through Kysely: `{ table: 'users', identifiers: ['email'] }`. */
export interface TableUserProviderOptions {
  table: string;
  /** The connection from config/database.ts; default: the default connection. */
  connection?: string;
  /** Columns a login may name (`email`, `username`); default `['email']`. */
  identifiers?: readonly string[];
  /** Default `id`. */
  idColumn?: string;
  /** Default `password`. */
  passwordColumn?: string;
}

/**
 * A {@link UserProvider} on a table. Only the configured identifier columns are looked up:
 * other credential fields are ignored, so a request cannot query by an arbitrary column,
 * and a non-string identifier (an object, an array) finds nobody.
 */
export class TableUserProvider implements UserProvider<AuthUser> {
  readonly #connection: () => Connection;
  readonly #table: string;
  readonly #identifiers: readonly string[];
  readonly #id: string;
  readonly #password: string;

  constructor(options: TableUserProviderOptions, connection: () => Connection) {
    this.#connection = connection;
    this.#table = options.table;
    this.#identifiers = options.identifiers ?? ['email'];
    this.#id = options.idColumn ?? 'id';
    this.#password = options.passwordColumn ?? 'password';
  }

  get #db(): Kysely<Record<string, Record<string, unknown>>> {
    return this.#connection().db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  }

  async findById(id: UserId): Promise<AuthUser | undefined> {
    const row = await this.#db
      .selectFrom(this.#table)
      .selectAll()
      .where(this.#id, '=', id)
      .executeTakeFirst();
    return row as AuthUser | undefined;
  }

  async findByCredentials(credentials: Readonly<Record<string, unknown>>) {
    const given = this.#identifiers.filter((column) => Object.hasOwn(credentials, column));
    if (given.length === 0) return undefined;
    let query = this.#db.selectFrom(this.#table).selectAll();
    for (const column of given) {
      const value = credentials[column];
      if (typeof value !== 'string' || value === '' || value.length > 1024) return undefined;
      query = query.where(column, '=', value);
    }
    return (await query.executeTakeFirst()) as AuthUser | undefined;
  }

  idOf(user: AuthUser): UserId {
    return user[this.#id] as UserId;
  }

  passwordHashOf(user: AuthUser): string | undefined {
    const value = user[this.#password];
    return typeof value === 'string' ? value : undefined;
  }

  async updatePasswordHash(user: AuthUser, hash: string): Promise<void> {
    await this.#db
      .updateTable(this.#table)
      .set({ [this.#password]: hash })
      .where(this.#id, '=', this.idOf(user))
      .execute();
  }
}

/** The id of `user` through the provider (default `user.id`), as a string or number. */
export function userIdOf<User>(provider: UserProvider<User>, user: User): UserId {
  const id = provider.idOf
    ? provider.idOf(user)
    : (user as { id?: unknown } | null | undefined)?.id;
  if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return id;
  if (typeof id === 'bigint') return String(id);
  throw new TypeError('auth: the user has no id (give the user provider an idOf(user))');
}

/** The stored hash of `user` through the provider (default `user.password`). */
export function passwordHashOf<User>(provider: UserProvider<User>, user: User): string | undefined {
  const hash = provider.passwordHashOf
    ? provider.passwordHashOf(user)
    : (user as { password?: unknown } | null | undefined)?.password;
  return typeof hash === 'string' && hash !== '' ? hash : undefined;
}
