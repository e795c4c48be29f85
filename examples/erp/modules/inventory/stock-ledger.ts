import type { EventBus } from 'keel';

declare module 'keel/events' {
  interface EventMap {
    'inventory.stock-low': { sku: string; onHand: number };
  }
}

export class InsufficientStockError extends Error {
  constructor(
    readonly sku: string,
    readonly requested: number,
    readonly onHand: number,
  ) {
    super(`Only ${onHand} of ${sku} on hand, ${requested} requested`);
  }
}

/** Stock on hand per SKU (in memory until the database issue gives it a table). */
export class StockLedger {
  readonly #onHand = new Map<string, number>();

  constructor(
    private readonly events: EventBus,
    private readonly lowStockThreshold: number,
  ) {}

  level(sku: string): number {
    return this.#onHand.get(sku) ?? 0;
  }

  levels(): Array<{ sku: string; onHand: number }> {
    return [...this.#onHand]
      .map(([sku, onHand]) => ({ sku, onHand }))
      .sort((a, b) => a.sku.localeCompare(b.sku));
  }

  receive(sku: string, quantity: number): void {
    this.#onHand.set(sku, this.level(sku) + quantity);
  }

  async reserve(sku: string, quantity: number): Promise<void> {
    const onHand = this.level(sku);
    if (quantity > onHand) throw new InsufficientStockError(sku, quantity, onHand);
    this.#onHand.set(sku, onHand - quantity);
    if (onHand - quantity <= this.lowStockThreshold) {
      await this.events.emit('inventory.stock-low', { sku, onHand: onHand - quantity });
    }
  }
}
