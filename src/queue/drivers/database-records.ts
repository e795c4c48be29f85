import type { BatchRecord, ClaimedJob, FailedJob, JobLease, JobRecord } from '../driver.js';
import {
  E_QUEUE_INVALID_ARGUMENT,
  E_QUEUE_INVALID_JOB,
  E_QUEUE_MALFORMED_PAYLOAD,
} from '../errors.js';

/**
 * Rows of the queue tables and their conversion to and from the driver contract's records,
 * and the checks a record passes before the database driver writes anything.
 */

/** A row of `jobs`. Numbers may come back as strings (MySQL DECIMAL, large int8). */
export interface JobRow {
  id: string;
  name: string;
  queue: string;
  payload: string;
  priority: number;
  available_at: number;
  max_attempts: number;
  retry_until: number;
  timeout_ms: number;
  backoff: string;
  unique_key: string | null;
  unique_until: number | null;
  batch_id: string | null;
  chain: string | null;
  parent_id: string | null;
  pending_children: number;
  meta: string;
  created_at: number;
  attempt: number;
  fence: number;
  lease_until: number;
  worker_id: string | null;
  last_error: string | null;
}

export interface FailedRow {
  id: string;
  job_id: string;
  name: string;
  queue: string;
  payload: string;
  attempts: number;
  error: string;
  failed_at: number;
  meta: string;
  record: string;
}

export interface BatchRow {
  id: string;
  name: string;
  total: number;
  pending: number;
  failed: number;
  cancelled_at: number | null;
  finished_at: number | null;
  created_at: number;
  callbacks: string;
}

/** What `failed_jobs.record` keeps of a job beside its own columns, to restore it on retry. */
interface FailedExtra {
  priority: number;
  maxAttempts: number;
  retryUntil: number;
  timeoutMs: number;
  backoffMs: number[];
  backoffExponential: boolean;
  batchId?: string;
  chain?: JobRecord[];
  parentId?: string;
  createdAt: number;
  /** The job's last fence: a retried job's claims continue above it, never reusing a token. */
  fence: number;
}

const num = (value: unknown): number => Number(value);

/** MySQL returns VARBINARY identifiers as Buffers: decode every byte column as UTF-8. */
export function decodeRow<T extends object>(row: T): T {
  let out: Record<string, unknown> | undefined;
  for (const key in row) {
    const value = row[key];
    if (!(value instanceof Uint8Array)) continue;
    // Copied only when a column needs decoding (MySQL): PostgreSQL and SQLite rows pass as
    // they are.
    out ??= { ...row } as Record<string, unknown>;
    out[key] = Buffer.from(value).toString('utf8');
  }
  return (out ?? row) as T;
}

/** The `jobs` row of a record, not yet claimed. */
export function recordToRow(record: JobRecord, fence = 0): JobRow {
  return {
    id: record.id,
    name: record.name,
    queue: record.queue,
    payload: record.payload,
    priority: record.priority,
    available_at: record.availableAt,
    max_attempts: record.maxAttempts,
    retry_until: record.retryUntil,
    timeout_ms: record.timeoutMs,
    backoff: JSON.stringify({ ms: record.backoffMs, exponential: record.backoffExponential }),
    unique_key: record.uniqueKey ?? null,
    unique_until: record.uniqueKey === undefined ? null : (record.uniqueUntil ?? null),
    batch_id: record.batchId ?? null,
    chain: record.chain && record.chain.length > 0 ? JSON.stringify(record.chain) : null,
    parent_id: record.parentId ?? null,
    pending_children: 0,
    meta: JSON.stringify(record.meta),
    created_at: record.createdAt,
    attempt: 0,
    fence,
    lease_until: 0,
    worker_id: null,
    last_error: null,
  };
}

/**
 * A JSON column of a `jobs` row, parsed and shape-checked. Keel writes these columns, so a
 * bad one was edited by hand or by another program: E_QUEUE_MALFORMED_PAYLOAD names the
 * column, and the driver fails that job instead of throwing out of a committed claim.
 */
function jsonColumn<T>(
  row: JobRow,
  column: 'backoff' | 'meta' | 'chain',
  text: string,
  shape: string,
  check: (value: unknown) => boolean,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new E_QUEUE_MALFORMED_PAYLOAD(
      row.name,
      `its ${column} column is not valid JSON (${(error as Error).message})`,
    );
  }
  if (!check(value))
    throw new E_QUEUE_MALFORMED_PAYLOAD(row.name, `its ${column} column is not ${shape}`);
  return value as T;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const readBackoff = (row: JobRow) =>
  jsonColumn<{ ms: number[]; exponential: boolean }>(
    row,
    'backoff',
    row.backoff,
    '{ ms: number[], exponential: boolean }',
    (v) =>
      isObject(v) &&
      Array.isArray(v.ms) &&
      v.ms.every((ms) => Number.isSafeInteger(ms) && ms >= 0) &&
      typeof v.exponential === 'boolean',
  );

const readChain = (row: JobRow): JobRecord[] | undefined =>
  row.chain === null
    ? undefined
    : jsonColumn<JobRecord[]>(row, 'chain', row.chain, 'a list of job records', Array.isArray);

const readMeta = (row: JobRow) =>
  jsonColumn<Record<string, string>>(
    row,
    'meta',
    row.meta,
    'an object of strings',
    (v) => isObject(v) && Object.values(v).every((s) => typeof s === 'string'),
  );

export function rowToRecord(raw: JobRow): JobRecord {
  return recordOfRow(decodeRow(raw));
}

export function rowToClaimed(raw: JobRow): ClaimedJob {
  const row = decodeRow(raw);
  return claimedJob(
    recordOfRow(row),
    num(row.attempt),
    num(row.fence),
    num(row.lease_until),
    row.worker_id ?? '',
  );
}

/** A decoded row's record. */
function recordOfRow(row: JobRow): JobRecord {
  const backoff = readBackoff(row);
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    payload: row.payload,
    priority: num(row.priority),
    availableAt: num(row.available_at),
    maxAttempts: num(row.max_attempts),
    retryUntil: num(row.retry_until),
    timeoutMs: num(row.timeout_ms),
    backoffMs: backoff.ms,
    backoffExponential: backoff.exponential,
    uniqueKey: row.unique_key ?? undefined,
    uniqueUntil: row.unique_until === null ? undefined : num(row.unique_until),
    batchId: row.batch_id ?? undefined,
    chain: readChain(row),
    parentId: row.parent_id ?? undefined,
    pendingChildren: num(row.pending_children),
    meta: readMeta(row),
    createdAt: num(row.created_at),
  };
}

/**
 * A claimed job: `record` with this claim's attempt, fence, lease and worker. Every field
 * is written out, absent optional ones as undefined, so every driver hands the worker
 * objects of one shape; a spread (`{ ...record, attempt }`) of a parsed record costs ten
 * times as much (V8 copies it property by property through a slow path).
 */
export function claimedJob(
  record: JobRecord,
  attempt: number,
  fence: number,
  leaseUntil: number,
  workerId: string,
): ClaimedJob {
  return {
    id: record.id,
    name: record.name,
    queue: record.queue,
    payload: record.payload,
    priority: record.priority,
    availableAt: record.availableAt,
    maxAttempts: record.maxAttempts,
    retryUntil: record.retryUntil,
    timeoutMs: record.timeoutMs,
    backoffMs: record.backoffMs,
    backoffExponential: record.backoffExponential,
    uniqueKey: record.uniqueKey,
    uniqueUntil: record.uniqueUntil,
    batchId: record.batchId,
    chain: record.chain,
    parentId: record.parentId,
    pendingChildren: record.pendingChildren,
    meta: record.meta,
    createdAt: record.createdAt,
    attempt,
    fence,
    leaseUntil,
    workerId,
  };
}

/**
 * The `failed_jobs` row of a job that failed for good. A row with an unreadable JSON column
 * (see {@link jsonColumn}) still gets one, readable: each unreadable column is dropped (no
 * backoff, no chain, empty meta), the readable ones kept.
 */
export function failedRow(raw: JobRow, id: string, error: string, failedAt: number): FailedRow {
  const row = decodeRow(raw);
  const readable = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch {
      return fallback;
    }
  };
  const backoff = readable(() => readBackoff(row), { ms: [0], exponential: false });
  const chain = readable(() => readChain(row), undefined);
  const meta = readable(() => readMeta(row), undefined);
  const extra: FailedExtra = {
    priority: num(row.priority),
    maxAttempts: num(row.max_attempts),
    retryUntil: num(row.retry_until),
    timeoutMs: num(row.timeout_ms),
    backoffMs: [...backoff.ms],
    backoffExponential: backoff.exponential,
    ...(row.batch_id === null ? {} : { batchId: row.batch_id }),
    ...(chain === undefined ? {} : { chain: [...chain] }),
    ...(row.parent_id === null ? {} : { parentId: row.parent_id }),
    createdAt: num(row.created_at),
    fence: num(row.fence),
  };
  return {
    id,
    job_id: row.id,
    name: row.name,
    queue: row.queue,
    payload: row.payload,
    attempts: num(row.attempt),
    error,
    failed_at: failedAt,
    meta: meta === undefined ? '{}' : row.meta,
    record: JSON.stringify(extra),
  };
}

export function rowToFailed(raw: FailedRow): FailedJob {
  const row = decodeRow(raw);
  return {
    id: row.id,
    jobId: row.job_id,
    name: row.name,
    queue: row.queue,
    payload: row.payload,
    attempts: num(row.attempts),
    error: row.error,
    failedAt: num(row.failed_at),
    meta: JSON.parse(row.meta) as Record<string, string>,
  };
}

/** The job a failed row puts back on its queue (fresh attempts, due at `now`), and its fence. */
export function failedToRecord(raw: FailedRow, now: number): { record: JobRecord; fence: number } {
  const row = decodeRow(raw);
  const extra = JSON.parse(row.record) as FailedExtra;
  const record: JobRecord = {
    id: row.job_id,
    name: row.name,
    queue: row.queue,
    payload: row.payload,
    priority: extra.priority,
    availableAt: now,
    maxAttempts: extra.maxAttempts,
    retryUntil: extra.retryUntil,
    timeoutMs: extra.timeoutMs,
    backoffMs: extra.backoffMs,
    backoffExponential: extra.backoffExponential,
    ...(extra.batchId === undefined ? {} : { batchId: extra.batchId }),
    ...(extra.chain === undefined ? {} : { chain: extra.chain }),
    ...(extra.parentId === undefined ? {} : { parentId: extra.parentId }),
    meta: JSON.parse(row.meta) as Record<string, string>,
    createdAt: extra.createdAt,
  };
  return { record, fence: num(extra.fence) };
}

export function rowToBatch(raw: BatchRow): BatchRecord {
  const row = decodeRow(raw);
  const at = (value: number | null): number | null => (value === null ? null : num(value));
  return {
    id: row.id,
    name: row.name,
    total: num(row.total),
    pending: num(row.pending),
    failed: num(row.failed),
    cancelledAt: at(row.cancelled_at),
    finishedAt: at(row.finished_at),
    createdAt: num(row.created_at),
    callbacks: row.callbacks,
  };
}

/**
 * The jobs a batch dispatches as it goes: `catch` on its first failure, `then` once every
 * job completed without one, `finally` once every job ran (completed or failed). Stored in
 * `BatchRecord.callbacks` as `{ then?, catch?, finally? }`, each a JobRecord or a list of
 * them; anything else (`''`, `{}`, other JSON) dispatches nothing.
 */
export function batchCallbacks(text: string, kind: 'then' | 'catch' | 'finally'): JobRecord[] {
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as Record<string, unknown> | null;
    const value = parsed && typeof parsed === 'object' ? parsed[kind] : undefined;
    if (value === undefined || value === null) return [];
    return (Array.isArray(value) ? value : [value]) as JobRecord[];
  } catch {
    return [];
  }
}

// Identifiers are VARCHAR columns (255 characters, ids 64); PostgreSQL text cannot hold NUL.
const IDENT = 255;
const ID = 64;

function assertText(owner: string, field: string, value: unknown, max: number): void {
  if (typeof value !== 'string' || value.length === 0)
    throw new E_QUEUE_INVALID_JOB(owner, `${field} must be a non-empty string`);
  if (value.length > max)
    throw new E_QUEUE_INVALID_JOB(owner, `${field} is longer than ${max} characters`);
  if (value.includes('\0'))
    throw new E_QUEUE_INVALID_JOB(owner, `${field} contains a NUL character`);
}

function assertInteger(
  owner: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new E_QUEUE_INVALID_JOB(owner, `${field} must be an integer from ${min} to ${max}`);
}

const INT32 = 2_147_483_647;
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/**
 * Refuse a record the tables cannot hold faithfully, before anything is written; `bytes`
 * is the record's budget (payload and chain together, UTF-8).
 */
export function assertRecord(record: JobRecord, maxBytes: number, depth = 0): void {
  const owner = typeof record?.name === 'string' ? record.name : String(record?.name);
  if (record === null || typeof record !== 'object')
    throw new E_QUEUE_INVALID_JOB('(none)', 'the record is not an object');
  assertText(owner, 'id', record.id, ID);
  assertText(owner, 'name', record.name, IDENT);
  assertText(owner, 'queue', record.queue, IDENT);
  if (typeof record.payload !== 'string')
    throw new E_QUEUE_INVALID_JOB(owner, 'the payload must be JSON text');
  if (record.payload.includes('\0'))
    throw new E_QUEUE_INVALID_JOB(owner, 'the payload contains a NUL character');
  assertInteger(owner, 'priority', record.priority, -INT32, INT32);
  assertInteger(owner, 'availableAt', record.availableAt, 0, MAX_TIME);
  assertInteger(owner, 'maxAttempts', record.maxAttempts, 1, INT32);
  assertInteger(owner, 'retryUntil', record.retryUntil, 0, MAX_TIME);
  assertInteger(owner, 'timeoutMs', record.timeoutMs, 0, MAX_TIME);
  assertInteger(owner, 'createdAt', record.createdAt, 0, MAX_TIME);
  if (!Array.isArray(record.backoffMs))
    throw new E_QUEUE_INVALID_JOB(owner, 'backoffMs must be a list of milliseconds');
  for (const ms of record.backoffMs) assertInteger(owner, 'backoffMs', ms, 0, MAX_TIME);
  if (typeof record.backoffExponential !== 'boolean')
    throw new E_QUEUE_INVALID_JOB(owner, 'backoffExponential must be a boolean');
  if (record.uniqueKey !== undefined) assertText(owner, 'uniqueKey', record.uniqueKey, IDENT);
  if (record.uniqueUntil !== undefined)
    assertInteger(owner, 'uniqueUntil', record.uniqueUntil, 0, MAX_TIME);
  if (record.batchId !== undefined) assertText(owner, 'batchId', record.batchId, ID);
  if (record.parentId !== undefined) assertText(owner, 'parentId', record.parentId, ID);
  if (record.meta === null || typeof record.meta !== 'object' || Array.isArray(record.meta))
    throw new E_QUEUE_INVALID_JOB(owner, 'meta must be an object of strings');
  for (const value of Object.values(record.meta))
    if (typeof value !== 'string')
      throw new E_QUEUE_INVALID_JOB(owner, 'meta must be an object of strings');
  if (record.chain !== undefined) {
    if (!Array.isArray(record.chain))
      throw new E_QUEUE_INVALID_JOB(owner, 'chain must be a list of records');
    if (depth === 0) for (const next of record.chain) assertRecord(next, maxBytes, depth + 1);
  }
  if (depth === 0) {
    const bytes =
      Buffer.byteLength(record.payload) +
      (record.chain ? Buffer.byteLength(JSON.stringify(record.chain)) : 0);
    if (bytes > maxBytes)
      throw new E_QUEUE_INVALID_JOB(
        owner,
        `its payload and chain take ${bytes} bytes, over the driver's limit of ${maxBytes}`,
      );
  }
}

export function assertBatch(batch: BatchRecord): void {
  const owner = `batch ${String(batch?.name)}`;
  if (batch === null || typeof batch !== 'object')
    throw new E_QUEUE_INVALID_JOB('(batch)', 'the batch is not an object');
  assertText(owner, 'batch id', batch.id, ID);
  if (typeof batch.name !== 'string' || batch.name.length > IDENT || batch.name.includes('\0'))
    throw new E_QUEUE_INVALID_JOB(
      owner,
      'the batch name must be a string of at most 255 characters',
    );
  assertInteger(owner, 'total', batch.total, 0, INT32);
  assertInteger(owner, 'pending', batch.pending, 0, INT32);
  assertInteger(owner, 'createdAt', batch.createdAt, 0, MAX_TIME);
  if (typeof batch.callbacks !== 'string')
    throw new E_QUEUE_INVALID_JOB(owner, 'callbacks must be JSON text');
}

/** Refuse a bad argument to claim/failed/heartbeat with a clear code. */
export function assertArgument(ok: boolean, name: string, expected: string, value: unknown): void {
  if (!ok) throw new E_QUEUE_INVALID_ARGUMENT(name, expected, String(value).slice(0, 80));
}

/**
 * A lease argument: the `{ id, fence }` of a claimed job. The value is described only when
 * it is refused: a claimed job is a whole record, and serializing it on every call was a
 * measurable part of a completion.
 */
export function assertJobLease(lease: JobLease): void {
  if (
    lease !== null &&
    typeof lease === 'object' &&
    typeof lease.id === 'string' &&
    Number.isSafeInteger(lease.fence)
  )
    return;
  let shown: string;
  try {
    shown = String(JSON.stringify(lease));
  } catch {
    shown = String(lease);
  }
  throw new E_QUEUE_INVALID_ARGUMENT(
    'lease',
    'a { id, fence } of a claimed job',
    shown.slice(0, 80),
  );
}

/** The queues a claim names: a non-empty list of names of 1 to 255 characters, no NUL. */
export function assertQueues(queues: readonly string[]): void {
  assertArgument(
    Array.isArray(queues) &&
      queues.length > 0 &&
      queues.every(
        (q) => typeof q === 'string' && q.length > 0 && q.length <= 255 && !q.includes('\0'),
      ),
    'queues',
    'a non-empty list of queue names (1 to 255 characters, no NUL)',
    queues,
  );
}

/** A lease length: a positive whole number of milliseconds. */
export function assertLease(leaseMs: number): void {
  assertArgument(
    Number.isSafeInteger(leaseMs) && leaseMs >= 1,
    'leaseMs',
    'a positive whole number of milliseconds',
    leaseMs,
  );
}

/** A time a job becomes available again (`retry`, `release`): epoch milliseconds. */
export function assertAvailableAt(availableAt: number): void {
  assertArgument(
    Number.isSafeInteger(availableAt) && availableAt >= 0,
    'availableAt',
    'epoch milliseconds',
    availableAt,
  );
}

/** The page `QueueDriver.failed` lists, checked the same way by every driver (1 to 1000 rows). */
export function failedPage(options: { limit?: number; offset?: number }): {
  limit: number;
  offset: number;
} {
  const limit = options.limit ?? 100;
  const offset = options.offset ?? 0;
  assertArgument(
    Number.isInteger(limit) && limit >= 1 && limit <= 1000,
    'limit',
    'an integer from 1 to 1000',
    limit,
  );
  assertArgument(
    Number.isSafeInteger(offset) && offset >= 0,
    'offset',
    'a non-negative integer',
    offset,
  );
  return { limit, offset };
}

/** Every argument of `QueueDriver.claim`, checked the same way by every driver. */
export function assertClaim(
  queues: readonly string[],
  limit: number,
  workerId: string,
  leaseMs: number,
): void {
  assertQueues(queues);
  assertArgument(
    Number.isInteger(limit) && limit >= 1 && limit <= 1000,
    'limit',
    'an integer from 1 to 1000',
    limit,
  );
  assertArgument(
    typeof workerId === 'string' && workerId.length > 0 && workerId.length <= 255,
    'workerId',
    'a non-empty string of at most 255 characters',
    workerId,
  );
  assertLease(leaseMs);
}
