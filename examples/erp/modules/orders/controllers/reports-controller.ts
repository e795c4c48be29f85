import { Controller, Get, type HttpContext, Middleware, Name } from 'keel/http';
import type { OrderService } from '../order-service.js';

/** Order reports, declared with decorators (discovered from the module's controllers/ folder). */
@Controller('/api/reports', { name: 'reports.' })
export class ReportsController {
  static inject = ['orders'];

  constructor(private readonly orders: OrderService) {}

  @Get('/orders')
  @Name('orders')
  @Middleware('auth:api', 'can:orders.view')
  async summary(ctx: HttpContext) {
    const orders = await this.orders.list();
    const status = ctx.query.status;
    const selected =
      typeof status === 'string' ? orders.filter((o) => o.status === status) : orders;
    return {
      count: selected.length,
      total: selected.reduce((sum, o) => sum + o.total, 0),
      awaitingApproval: orders.filter((o) => o.status === 'awaiting-approval').length,
    };
  }
}
