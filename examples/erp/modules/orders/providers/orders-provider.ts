import { type Application, ServiceProvider } from 'keel';
import { invoiceBacklog } from '../invoice-backlog-check.js';
import { OrderMetrics } from '../order-metrics.js';
import { OrderService } from '../order-service.js';

declare module 'keel/container' {
  interface ContainerBindings {
    orders: OrderService;
  }
}

export class OrdersProvider extends ServiceProvider<Application> {
  readonly #metrics = new OrderMetrics();

  override register(): void {
    this.app.container.singleton(
      'orders',
      (c) =>
        new OrderService(
          c.make('catalog'),
          c.make('inventory'),
          this.app.events,
          {
            approvalThreshold: this.app.config.get('orders.approvalThreshold') as number,
            maxLines: this.app.config.get('orders.maxLines') as number,
          },
          this.#metrics,
        ),
    );
  }

  /** The module's own metrics (on /_metrics) and health check (on /health, `keel health:check`). */
  override boot(): void {
    if (this.app.container.bound('metrics')) this.#metrics.attach(this.app.make('metrics'));
    const warnAbove = this.app.config.get('orders.invoiceBacklogWarn') as number;
    // Not a readiness check: taking this instance out of the load balancer would not issue
    // a single invoice (the workers do), it would only stop orders from being taken.
    this.app.health.register('orders:invoices', () => invoiceBacklog(warnAbove), {
      readiness: false,
      timeoutMs: 2_000,
    });
  }
}
