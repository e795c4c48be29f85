import { defineError, type EventBus } from 'keel';

declare module 'keel/events' {
  interface EventMap {
    'inventory.stock-low': { sku: string; onHand: number };
  }
}

export const E_INSUFFICIENT_STOCK = defineError(
  'E_INSUFFICIENT_STOCK',
  (sku: string, requested: number, onHand: number) =>
    `Only ${onHand} of ${sku} on hand, ${requested} requested`,
  {
    status: 409,
    help: 'Order fewer, or receive stock first (POST /api/inventory/levels/:sku/receive).',
  },
);

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

  /**
   * Reserve several lines all or nothing: every line is checked (quantities of a repeated
   * SKU summed) before any stock moves, with no await in between.
   */
  async reserveAll(lines: ReadonlyArray<{ sku: string; quantity: number }>): Promise<void> {
    const wanted = new Map<string, number>();
    for (const line of lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    for (const [sku, quantity] of wanted) {
      const onHand = this.level(sku);
      if (quantity > onHand) throw new E_INSUFFICIENT_STOCK(sku, quantity, onHand);
    }
    const low: Array<{ sku: string; onHand: number }> = [];
    for (const [sku, quantity] of wanted) {
      const left = this.level(sku) - quantity;
      this.#onHand.set(sku, left);
      if (left <= this.lowStockThreshold) low.push({ sku, onHand: left });
    }
    for (const event of low) await this.events.emit('inventory.stock-low', event);
  }

  async reserve(sku: string, quantity: number): Promise<void> {
    const onHand = this.level(sku);
    if (quantity > onHand) throw new E_INSUFFICIENT_STOCK(sku, quantity, onHand);
    this.#onHand.set(sku, onHand - quantity);
    if (onHand - quantity <= this.lowStockThreshold) {
      await this.events.emit('inventory.stock-low', { sku, onHand: onHand - quantity });
    }
  }
}
