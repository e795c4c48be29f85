import { sql } from 'kysely';
import type { Connection } from '../../db/index.js';
import { E_CACHE_NOT_A_NUMBER } from '../errors.js';
import { CACHE_TABLE } from '../migrations/create-cache-table.js';
import { deserialize, serializeBounded } from '../serializer.js';
import {
  type CacheEntry,
  type CacheStore,
  DEFAULT_MAX_VALUE_BYTES,
  expiryOf,
  isCounter,
  type SerializingStoreOptions,
} from '../store.js';

export interface DatabaseStoreOptions extends SerializingStoreOptions {
  connection: Connection;
  /** Default `keel_cache`, the table the framework migration creates. */
  table?: string;
}

interface Row {
  key: string;
  value: string;
  expires_at: number | string | null;
}

/**
 * Entries in the `keel_cache` table on SQLite, PostgreSQL or MySQL/MariaDB. Writes are one
 * upsert per dialect (`ON CONFLICT … DO UPDATE`, `ON DUPLICATE KEY UPDATE`); expired rows
 * read as missing and are removed by `cache:gc`. Queries join the ambient transaction of
 * the connection (as the models' do): on SQLite's single connection a cache call inside a
 * transaction would otherwise wait for that transaction to end — forever.
 *
 * @example
 * ```ts
 * const store = new DatabaseStore({ connection: app.make('db').connection() });
 * ```
 */
export class DatabaseStore implements CacheStore {
  readonly driver = 'database';
  readonly #conn: Connection;
  readonly #table: string;
  readonly #now: () => number;
  readonly #maxBytes: number;

  constructor(options: DatabaseStoreOptions) {
    this.#conn = options.connection;
    this.#table = options.table ?? CACHE_TABLE;
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  async get(key: string): Promise<unknown> {
    return (await this.getEntry(key))?.value;
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    const row = (await this.#conn
      .selectFrom(this.#table)
      .select(['value', 'expires_at'])
      .where('key', '=', key)
      .executeTakeFirst()) as Row | undefined;
    return row ? this.#live(row) : undefined;
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const rows = (await this.#conn
      .selectFrom(this.#table)
      .select(['key', 'value', 'expires_at'])
      .where('key', 'in', [...keys])
      .execute()) as Row[];
    const found = new Map<string, unknown>();
    // MySQL returns the VARBINARY key as a Buffer.
    for (const row of rows) found.set(String(row.key), this.#live(row)?.value);
    return keys.map((key) => found.get(key));
  }

  async set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    const text = serializeBounded(key, value, this.#maxBytes);
    await this.#upsert([{ key, value: text, expires_at: nullable(expiryOf(ttlMs, this.#now())) }]);
  }

  async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Promise<void> {
    if (entries.length === 0) return;
    const expires = nullable(expiryOf(ttlMs, this.#now()));
    // One row per key: a key given twice keeps its last value, as a series of set() would.
    const rows = new Map<string, Row>();
    for (const [key, value] of entries)
      rows.set(key, {
        key,
        value: serializeBounded(key, value, this.#maxBytes),
        expires_at: expires,
      });
    await this.#upsert([...rows.values()]);
  }

  async add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    const text = serializeBounded(key, value, this.#maxBytes);
    const now = this.#now();
    // An expired row counts as missing: remove it, then insert-if-absent. Two racing adds
    // both may delete, but only one insert wins the primary key.
    await this.#conn
      .deleteFrom(this.#table)
      .where('key', '=', key)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .execute();
    const result = await this.#insertIgnore({
      key,
      value: text,
      expires_at: nullable(expiryOf(ttlMs, now)),
    });
    return result;
  }

  async delete(key: string): Promise<boolean> {
    const entry = await this.getEntry(key);
    await this.#conn.deleteFrom(this.#table).where('key', '=', key).execute();
    return entry !== undefined;
  }

  /**
   * Inputs: key, integer `by`. Invariant: concurrent increments never lose an update.
   * The row is created if absent (a racing creator waits on the primary key), then locked with SELECT … FOR UPDATE (SQLite serializes writers itself) and
   * rewritten, all in one transaction.
   */
  increment(key: string, by: number): Promise<number> {
    const conn = this.#conn;
    return conn.transaction(async () => {
      const seed = { key, value: '0', expires_at: null };
      // On MySQL, INSERT IGNORE of an existing key takes a shared lock, and two shared
      // holders both upgrading for FOR UPDATE deadlock; a no-op ON DUPLICATE KEY UPDATE
      // takes the exclusive lock at once.
      if (conn.dialect === 'mysql')
        await conn
          .insertInto(this.#table)
          .values(seed)
          .onDuplicateKeyUpdate({ expires_at: sql`${sql.ref('expires_at')}` })
          .execute();
      else await this.#insertIgnore(seed);
      let query = conn
        .selectFrom(this.#table)
        .select(['value', 'expires_at'])
        .where('key', '=', key);
      if (conn.dialect !== 'sqlite') query = query.forUpdate();
      const row = (await query.executeTakeFirstOrThrow()) as Row;
      const entry = this.#live(row);
      if (entry !== undefined && !isCounter(entry.value)) throw new E_CACHE_NOT_A_NUMBER(key);
      const next = ((entry?.value as number | undefined) ?? 0) + by;
      await conn
        .updateTable(this.#table)
        .set({ value: String(next), expires_at: entry ? nullable(entry.expiresAt) : null })
        .where('key', '=', key)
        .execute();
      return next;
    });
  }

  async flush(prefix: string): Promise<void> {
    let query = this.#conn.deleteFrom(this.#table);
    if (prefix !== '') {
      // Not LIKE: SQLite's is case-insensitive and `%`/`_` would need escaping. SUBSTR counts
      // characters on SQLite and PostgreSQL, bytes on MySQL's VARBINARY.
      const length =
        this.#conn.dialect === 'mysql' ? Buffer.byteLength(prefix) : [...prefix].length;
      query = query.where(sql`substr(${sql.ref('key')}, 1, ${sql.lit(length)})`, '=', prefix);
    }
    await query.execute();
  }

  async gc(): Promise<number> {
    const result = await this.#conn
      .deleteFrom(this.#table)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', this.#now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #live(row: Row): CacheEntry | undefined {
    const expiresAt = row.expires_at === null ? 0 : Number(row.expires_at);
    if (expiresAt !== 0 && expiresAt <= this.#now()) return undefined;
    return { value: deserialize(String(row.value)), expiresAt };
  }

  async #upsert(rows: Row[]): Promise<void> {
    const insert = this.#conn.insertInto(this.#table).values(rows);
    if (this.#conn.dialect === 'mysql') {
      await insert
        .onDuplicateKeyUpdate({
          value: sql`values(${sql.ref('value')})`,
          expires_at: sql`values(${sql.ref('expires_at')})`,
        })
        .execute();
      return;
    }
    await insert
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          value: sql`excluded.value`,
          expires_at: sql`excluded.expires_at`,
        }),
      )
      .execute();
  }

  /** Insert unless the key exists; true when inserted. */
  async #insertIgnore(row: Row): Promise<boolean> {
    let insert = this.#conn.insertInto(this.#table).values(row);
    insert =
      this.#conn.dialect === 'mysql'
        ? insert.ignore()
        : insert.onConflict((oc) => oc.column('key').doNothing());
    const result = await insert.executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}

function nullable(expiresAt: number): number | null {
  return expiresAt === 0 ? null : expiresAt;
}
