/**
 * Whether `error` (or one of its causes) is a deadlock victim (MySQL/MariaDB 1213,
 * PostgreSQL 40P01) or a serialization failure (40001): the statement was rolled back
 * whole, so running it again is safe.
 *
 * @example
 * ```ts
 * for (let i = 1; ; i++) {
 *   try { return await upsert(); } catch (e) { if (i >= 5 || !isDeadlock(e)) throw e; }
 * }
 * ```
 */
export function isDeadlock(error: unknown): boolean {
  let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (
      e.errno === 1213 ||
      e.code === 'ER_LOCK_DEADLOCK' ||
      e.code === '40P01' ||
      e.code === '40001'
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}
