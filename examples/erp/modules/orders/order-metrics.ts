import type { Counter, Histogram, MetricsRegistry } from 'keel/observability';
import type { OrderStatus } from './models/order.js';

/** Where an order came from: the HTTP API or the `orders:place` command. */
export type OrderChannel = 'api' | 'cli';

/** Order totals in major currency units (the catalogue's prices are in cents). */
const VALUE_BUCKETS = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000];

/**
 * The orders module's business metrics. The service records into it whether or not the app
 * has metrics: until the provider attaches the registry (when `metrics` is bound), recording
 * does nothing.
 *
 * - `keel_orders_placed_total{channel,status}`: orders stored for good, by channel and by
 *   whether they wait for approval;
 * - `keel_order_value{channel}`: their totals, in EUR.
 *
 * @example
 * ```ts
 * const metrics = new OrderMetrics();
 * if (app.container.bound('metrics')) metrics.attach(app.make('metrics'));
 * metrics.placed('api', 'placed', 12_900);
 * ```
 */
export class OrderMetrics {
  #placed: Counter<'channel' | 'status'> | undefined;
  #value: Histogram<'channel'> | undefined;

  attach(registry: MetricsRegistry): void {
    this.#placed = registry.counter({
      name: 'orders_placed_total',
      help: 'Orders placed, by channel (api, cli) and status (placed, awaiting-approval)',
      labelNames: ['channel', 'status'],
    });
    this.#value = registry.histogram({
      name: 'order_value',
      help: 'Totals of the orders placed, in EUR, by channel',
      labelNames: ['channel'],
      buckets: VALUE_BUCKETS,
    });
  }

  /** An order committed: `total` in cents. */
  placed(channel: OrderChannel, status: OrderStatus, total: number): void {
    this.#placed?.labels(channel, status).inc();
    this.#value?.labels(channel).observe(total / 100);
  }
}
