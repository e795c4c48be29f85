import type { QueryEvent, QueryOperation } from './instrumented-dialect.js';

/** Count and time of one operation on one connection. */
export interface OperationStats {
  count: number;
  errors: number;
  totalMs: number;
  maxMs: number;
}

/** A statement slower than the threshold, with its SQL and redacted parameters. */
export interface SlowQuery {
  at: string;
  operation: QueryOperation;
  sql: string;
  parameters: string[];
  durationMs: number;
}

export interface QueryStatsSnapshot {
  connection: string;
  operations: Partial<Record<QueryOperation, OperationStats>>;
  slow: SlowQuery[];
}

/**
 * How a bound value appears in logs: its type and size, never its content. Parameters
 * carry passwords, tokens and personal data; the SQL beside them says what was run.
 */
export function redactParameters(parameters: readonly unknown[]): string[] {
  return parameters.map((value) => {
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    if (typeof value === 'string') return `<string(${value.length})>`;
    if (typeof value === 'number' || typeof value === 'bigint') return `<${typeof value}>`;
    if (typeof value === 'boolean') return '<boolean>';
    if (value instanceof Date) return '<date>';
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<bytes(${value.length})>`;
    return `<${Array.isArray(value) ? 'array' : typeof value}>`;
  });
}

/** Per-connection counters, fed by the instrumented driver. */
export class QueryStats {
  readonly #connection: string;
  readonly #history: number;
  readonly #operations = new Map<QueryOperation, OperationStats>();
  readonly #slow: SlowQuery[] = [];

  constructor(connection: string, options: { slowHistory: number }) {
    this.#connection = connection;
    this.#history = options.slowHistory;
  }

  record(event: QueryEvent): void {
    let stats = this.#operations.get(event.operation);
    if (!stats) {
      stats = { count: 0, errors: 0, totalMs: 0, maxMs: 0 };
      this.#operations.set(event.operation, stats);
    }
    stats.count++;
    if (event.error !== undefined) stats.errors++;
    stats.totalMs += event.durationMs;
    if (event.durationMs > stats.maxMs) stats.maxMs = event.durationMs;
  }

  /** Keep a slow statement (the oldest is dropped past the history size). */
  recordSlow(event: QueryEvent): SlowQuery {
    const slow: SlowQuery = {
      at: new Date().toISOString(),
      operation: event.operation,
      sql: event.sql,
      parameters: redactParameters(event.parameters),
      durationMs: Math.round(event.durationMs * 100) / 100,
    };
    if (this.#history > 0) {
      this.#slow.push(slow);
      if (this.#slow.length > this.#history) this.#slow.shift();
    }
    return slow;
  }

  snapshot(): QueryStatsSnapshot {
    const operations: Partial<Record<QueryOperation, OperationStats>> = {};
    for (const [operation, stats] of this.#operations) operations[operation] = { ...stats };
    return { connection: this.#connection, operations, slow: [...this.#slow] };
  }

  reset(): void {
    this.#operations.clear();
    this.#slow.length = 0;
  }
}
