import { db } from 'keel/db';
import type { HealthCheckOutcome } from 'keel/kernel';

/**
 * The `orders:invoices` health check: orders still without an invoice. Each order queues
 * its invoice job in its own transaction, so a backlog here means the `invoices` workers are
 * down, stuck or too few; the check warns once more than `warnAbove` orders wait.
 *
 * @example
 * ```ts
 * app.health.register('orders:invoices', () => invoiceBacklog(100), { readiness: false });
 * ```
 */
export async function invoiceBacklog(warnAbove: number): Promise<HealthCheckOutcome> {
  const row = await db()
    .selectFrom('orders')
    .leftJoin('invoices', 'invoices.order_id', 'orders.id')
    .where('invoices.id', 'is', null)
    .select((eb) => eb.fn.countAll().as('waiting'))
    .executeTakeFirst();
  // PostgreSQL counts in bigint, which its driver hands over as a string.
  const waiting = Number(row?.waiting ?? 0);
  const details = { waiting, warnAbove };
  return waiting > warnAbove
    ? {
        status: 'warn',
        message: `${waiting} orders wait for their invoice (over ${warnAbove}): are the invoices workers running?`,
        details,
      }
    : { status: 'ok', message: `${waiting} orders wait for their invoice`, details };
}
