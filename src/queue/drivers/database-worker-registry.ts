import { sql } from 'kysely';
import type { Connection } from '../../db/index.js';
import { QUEUE_WORKERS_TABLE } from '../migrations/create-queue-workers-table.js';
import type { WorkerInfo, WorkerRegistry } from '../worker-registry.js';
import { decodeRow } from './database-records.js';

interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  queues: string;
  started_at: number;
  last_seen: number;
  processed: number;
  failed: number;
  interval_ms: number;
}

const table = sql.table(QUEUE_WORKERS_TABLE);

/**
 * The worker registry in the `queue_workers` table: shared by every worker process on the
 * database, so `keel queue:workers` on any host lists them all. Its statements use the
 * connection's root, never a caller's transaction: a heartbeat must not wait on, nor roll
 * back with, a job's work.
 *
 * @example
 * ```ts
 * const registry = new DatabaseWorkerRegistry(app.make('db').connection());
 * ```
 */
export class DatabaseWorkerRegistry implements WorkerRegistry {
  readonly #connection: Connection;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  async beat(info: WorkerInfo): Promise<void> {
    const db = this.#connection.kysely;
    const queues = JSON.stringify(info.queues);
    const updated = await sql`UPDATE ${table} SET last_seen = ${info.lastSeen},
      processed = ${info.processed}, failed = ${info.failed}, queues = ${queues},
      interval_ms = ${info.intervalMs} WHERE id = ${info.id}`.execute(db);
    if (Number(updated.numAffectedRows ?? 0) > 0) return;
    // Only the worker itself writes its row: an insert after a missed update cannot race.
    await db
      .insertInto(QUEUE_WORKERS_TABLE)
      .values({
        id: info.id,
        host: info.host,
        pid: info.pid,
        queues,
        started_at: info.startedAt,
        last_seen: info.lastSeen,
        processed: info.processed,
        failed: info.failed,
        interval_ms: info.intervalMs,
      })
      .execute();
  }

  async remove(id: string): Promise<void> {
    await sql`DELETE FROM ${table} WHERE id = ${String(id)}`.execute(this.#connection.kysely);
  }

  async list(): Promise<WorkerInfo[]> {
    const rows = await sql<WorkerRow>`SELECT * FROM ${table}
      ORDER BY started_at, id`.execute(this.#connection.kysely);
    return rows.rows.map((raw) => {
      const row = decodeRow(raw);
      return {
        id: row.id,
        host: row.host,
        pid: Number(row.pid),
        queues: parseQueues(row.queues),
        startedAt: Number(row.started_at),
        lastSeen: Number(row.last_seen),
        processed: Number(row.processed),
        failed: Number(row.failed),
        intervalMs: Number(row.interval_ms),
      };
    });
  }
}

/** The queues column; a row edited by hand into something else reads as none. */
function parseQueues(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}
