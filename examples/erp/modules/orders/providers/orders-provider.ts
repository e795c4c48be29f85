import { type Application, ServiceProvider } from 'keel';
import { OrderService } from '../order-service.js';

declare module 'keel/container' {
  interface ContainerBindings {
    orders: OrderService;
  }
}

export class OrdersProvider extends ServiceProvider<Application> {
  override register(): void {
    this.app.container.singleton(
      'orders',
      (c) =>
        new OrderService(c.make('catalog'), c.make('inventory'), this.app.events, {
          approvalThreshold: this.app.config.get('orders.approvalThreshold') as number,
          maxLines: this.app.config.get('orders.maxLines') as number,
        }),
    );
  }
}
