import { db } from 'keel/db';
import { Job, type JobContext, UnrecoverableError } from 'keel/queue';
import { Order } from './models/order.js';

/**
 * Issues the invoice of a placed order. Dispatched inside the order's transaction, so it is
 * queued if and only if the order is stored; transactional, so a worker that lost its lease
 * commits no invoice; idempotent (one invoice per order), so a second run changes nothing.
 */
export class GenerateInvoice extends Job<{ orderId: number }> {
  static override jobName = 'orders:generate-invoice';
  static override options = {
    queue: 'invoices',
    tries: 5,
    backoff: { type: 'exponential' as const, delay: '2s' },
    timeout: '30s',
    transactional: true,
  };

  async handle(ctx: JobContext): Promise<void> {
    const { orderId } = this.payload;
    const order = await db()
      .selectFrom('orders')
      .select(['id', 'total'])
      .where('id', '=', orderId)
      .executeTakeFirst();
    if (!order) throw new UnrecoverableError(`order ${orderId} does not exist`);
    const existing = await db()
      .selectFrom('invoices')
      .select('id')
      .where('order_id', '=', orderId)
      .executeTakeFirst();
    if (existing) return;
    await db()
      .insertInto('invoices')
      .values({
        order_id: orderId,
        number: `INV-${String(orderId).padStart(6, '0')}`,
        total: order.total,
        issued_at: Date.now(),
      })
      .execute();
    ctx.logger.info({ orderId }, 'invoice issued');
  }
}

/** Yesterday's order count and revenue, kept in `daily_reports` (scheduled nightly). */
export class DailySalesReport extends Job<{ day?: string }> {
  static override jobName = 'orders:daily-sales-report';
  static override options = { queue: 'reports', tries: 3 };

  async handle(): Promise<void> {
    const day = this.payload.day ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // The model reads created_at as a Date on every engine; a day's orders are few enough to
    // total here (a real report would aggregate in SQL over an indexed range).
    const orders = (await Order.query().all()).filter(
      (o) => (o.created_at as Date).toISOString().slice(0, 10) === day,
    );
    const values = {
      day,
      orders: orders.length,
      revenue: orders.reduce((sum, o) => sum + o.total, 0),
    };
    await db().deleteFrom('daily_reports').where('day', '=', day).execute();
    await db().insertInto('daily_reports').values(values).execute();
  }
}
