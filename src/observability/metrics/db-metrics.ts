import type { DatabaseManager, QueryEvent } from '../../db/index.js';
import type { CounterChild, Gauge, HistogramChild } from './metric-series.js';
import type { MetricsRegistry } from './metrics-registry.js';

interface OperationSeries {
  queries: CounterChild;
  errors: CounterChild;
  duration: HistogramChild;
}

interface ConnectionSeries {
  slow: CounterChild;
  byOperation: Map<string, OperationSeries>;
}

/** The parts of a pg `Pool` read at scrape time. */
interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** mysql2's pool keeps its counts in queues (internal fields, read defensively). */
interface MysqlPoolLike {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

/**
 * Database metrics: statements by connection and operation, their duration, errors and slow
 * ones (over `database.slowQueryMs`), from the manager's query listener; and pool usage of
 * PostgreSQL and MySQL connections, read at scrape time (SQLite has no pool). Returns the
 * function that stops listening.
 *
 * @example
 * ```ts
 * const stop = instrumentDatabase(registry, app.make('db'));
 * ```
 */
export function instrumentDatabase(
  registry: MetricsRegistry,
  manager: DatabaseManager,
): () => void {
  const queries = registry.counter({
    name: 'db_queries_total',
    help: 'SQL statements run, by connection and operation',
    labelNames: ['connection', 'operation'],
  });
  const errors = registry.counter({
    name: 'db_query_errors_total',
    help: 'SQL statements that failed, by connection and operation',
    labelNames: ['connection', 'operation'],
  });
  const duration = registry.histogram({
    name: 'db_query_duration_seconds',
    help: 'SQL statement duration, by connection and operation',
    labelNames: ['connection', 'operation'],
  });
  const slow = registry.counter({
    name: 'db_slow_queries_total',
    help: 'SQL statements slower than database.slowQueryMs, by connection',
    labelNames: ['connection'],
  });
  const slowMs = manager.config.slowQueryMs;
  // Connection names come from config, operations from a fixed set: both maps stay small.
  const connections = new Map<string, ConnectionSeries>();
  const listener = (event: QueryEvent): void => {
    let connection = connections.get(event.connection);
    if (connection === undefined) {
      connection = { slow: slow.labels(event.connection), byOperation: new Map() };
      connections.set(event.connection, connection);
    }
    let series = connection.byOperation.get(event.operation);
    if (series === undefined) {
      series = {
        queries: queries.labels(event.connection, event.operation),
        errors: errors.labels(event.connection, event.operation),
        duration: duration.labels(event.connection, event.operation),
      };
      connection.byOperation.set(event.operation, series);
    }
    series.queries.inc();
    if (event.error !== undefined) series.errors.inc();
    series.duration.observe(event.durationMs / 1000);
    if (slowMs > 0 && event.durationMs >= slowMs) connection.slow.inc();
  };
  const off = manager.onQuery(listener);
  const poolGauges = {
    total: registry.gauge({
      name: 'db_pool_connections',
      help: 'Connections in the pool (PostgreSQL, MySQL), by connection',
      labelNames: ['connection'],
    }),
    idle: registry.gauge({
      name: 'db_pool_idle_connections',
      help: 'Idle connections in the pool, by connection',
      labelNames: ['connection'],
    }),
    waiting: registry.gauge({
      name: 'db_pool_waiting_requests',
      help: 'Requests waiting for a pool connection, by connection',
      labelNames: ['connection'],
    }),
  };
  const offCollect = registry.onCollect('db', () => collectPools(manager, poolGauges));
  return () => {
    off();
    offCollect();
  };
}

function collectPools(
  manager: DatabaseManager,
  gauges: { total: Gauge; idle: Gauge; waiting: Gauge },
): void {
  for (const connection of manager.opened()) {
    if (connection.closed || connection.dialect === 'sqlite') continue;
    const pool = connection.native<unknown>();
    if (pool === undefined || pool === null) continue;
    let counts: [number, number, number] | undefined;
    if (connection.dialect === 'postgres') {
      const pg = pool as PgPoolLike;
      if (typeof pg.totalCount === 'number')
        counts = [pg.totalCount, pg.idleCount, pg.waitingCount];
    } else {
      const my = pool as MysqlPoolLike;
      if (typeof my._allConnections?.length === 'number')
        counts = [
          my._allConnections.length,
          my._freeConnections?.length ?? 0,
          my._connectionQueue?.length ?? 0,
        ];
    }
    if (counts === undefined) continue;
    gauges.total.labels(connection.name).set(counts[0]);
    gauges.idle.labels(connection.name).set(counts[1]);
    gauges.waiting.labels(connection.name).set(counts[2]);
  }
}
