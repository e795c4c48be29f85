import { sql } from 'kysely';
import type { Connection } from '../../db/index.js';
import { SESSIONS_TABLE } from '../migrations/create-sessions-table.js';
import { isSessionHandle, isSessionId, sessionHandle } from '../session-id.js';
import type { SessionRecord } from '../session-record.js';
import { toRecord } from '../session-record.js';
import type { ServerSessionStore, SessionStoreOptions, StoredSession } from '../store.js';

export interface DatabaseSessionStoreOptions extends SessionStoreOptions {
  connection: Connection;
  /** Default `sessions`, the table the framework migration creates. */
  table?: string;
}

interface Row {
  id: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  payload: string;
  last_activity: number | string;
  created_at: number | string;
}

/** Longest user agent kept: enough to describe a device, bounded against hostile headers. */
const MAX_USER_AGENT = 512;

/**
 * Sessions in the `sessions` table on SQLite, PostgreSQL or MySQL/MariaDB, one row per
 * session keyed by the SHA-256 of its id. A write is one upsert; expiry is computed from
 * `last_activity` and `created_at`, so expired rows read as missing until `session:cleanup`
 * deletes them. Queries join the connection's ambient transaction, as the models' do.
 *
 * @example
 * ```ts
 * const store = new DatabaseSessionStore({ connection: app.make('db').connection(), lifetime });
 * ```
 */
export class DatabaseSessionStore implements ServerSessionStore {
  readonly driver = 'database';
  readonly #conn: Connection;
  readonly #table: string;
  readonly #options: SessionStoreOptions;

  constructor(options: DatabaseSessionStoreOptions) {
    this.#conn = options.connection;
    this.#table = options.table ?? SESSIONS_TABLE;
    this.#options = options;
  }

  async read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined> {
    if (!isSessionId(cookieValue)) return undefined;
    const row = (await this.#conn
      .selectFrom(this.#table)
      .selectAll()
      .where('id', '=', sessionHandle(cookieValue))
      .executeTakeFirst()) as Row | undefined;
    const record = row ? fromRow(row) : undefined;
    return record ? { id: cookieValue, record } : undefined;
  }

  /** Inputs: the id's handle and the record. One upsert: a concurrent write wins whole. */
  cookieValue(id: string): string {
    return id;
  }

  async write(id: string, record: SessionRecord): Promise<void> {
    const row = {
      id: sessionHandle(id),
      user_id: record.userId,
      ip: record.ip?.slice(0, 45) ?? null,
      user_agent: record.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
      payload: JSON.stringify({ data: record.data, flash: record.flash }),
      last_activity: record.lastActivity,
      created_at: record.createdAt,
    };
    const insert = this.#conn.insertInto(this.#table).values(row);
    const columns = ['user_id', 'ip', 'user_agent', 'payload', 'last_activity', 'created_at'];
    if (this.#conn.dialect === 'mysql')
      await insert
        .onDuplicateKeyUpdate(
          Object.fromEntries(columns.map((c) => [c, sql`values(${sql.ref(c)})`])),
        )
        .execute();
    else
      await insert
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]))),
        )
        .execute();
  }

  async destroy(id: string): Promise<void> {
    await this.#conn.deleteFrom(this.#table).where('id', '=', sessionHandle(id)).execute();
  }

  async forUser(userId: string, now: number): Promise<StoredSession[]> {
    const rows = (await this.#active(now)
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('last_activity', 'desc')
      .execute()) as Row[];
    return rows.flatMap((row) => {
      const record = fromRow(row);
      return record ? [{ handle: String(row.id), record }] : [];
    });
  }

  async destroyHandle(handle: string): Promise<boolean> {
    if (!isSessionHandle(handle)) return false;
    const result = await this.#conn
      .deleteFrom(this.#table)
      .where('id', '=', handle)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async destroyUser(userId: string, keep: readonly string[] = []): Promise<number> {
    let query = this.#conn.deleteFrom(this.#table).where('user_id', '=', userId);
    if (keep.length > 0) query = query.where('id', 'not in', [...keep]);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async countActive(now: number): Promise<number> {
    const row = (await this.#active(now)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()) as { n: number | string | bigint } | undefined;
    return Number(row?.n ?? 0);
  }

  async gc(now: number): Promise<number> {
    const { idleMs, absoluteMs } = this.#options.lifetime;
    const result = await this.#conn
      .deleteFrom(this.#table)
      .where((eb) =>
        eb.or([eb('last_activity', '<=', now - idleMs), eb('created_at', '<=', now - absoluteMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Rows alive at `now`: the same rule as `isExpired`, in SQL. */
  #active(now: number) {
    const { idleMs, absoluteMs } = this.#options.lifetime;
    return this.#conn
      .selectFrom(this.#table)
      .where('last_activity', '>', now - idleMs)
      .where('created_at', '>', now - absoluteMs);
  }
}

function fromRow(row: Row): SessionRecord | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    return undefined;
  }
  const p = (payload ?? {}) as Record<string, unknown>;
  return toRecord({
    data: p.data,
    flash: p.flash,
    userId: row.user_id === null ? null : String(row.user_id),
    ip: row.ip,
    userAgent: row.user_agent,
    lastActivity: Number(row.last_activity),
    createdAt: Number(row.created_at),
  });
}
