import { type Application, ServiceProvider } from 'keel';
import { StockLedger } from '../stock-ledger.js';

declare module 'keel/container' {
  interface ContainerBindings {
    inventory: StockLedger;
  }
}

export class InventoryProvider extends ServiceProvider<Application> {
  override register(): void {
    this.app.container.singleton(
      'inventory',
      () =>
        new StockLedger(
          this.app.events,
          this.app.config.get('inventory.lowStockThreshold') as number,
        ),
    );
  }
}
