import { defineError, type EventBus } from 'keel';
import { db } from 'keel/db';
import { StockLevel } from './models/stock-level.js';

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

/** Stock on hand per SKU, on the `stock_levels` table. */
export class StockLedger {
  constructor(
    private readonly events: EventBus,
    private readonly lowStockThreshold: number,
  ) {}

  async level(sku: string): Promise<number> {
    return (await StockLevel.find(sku))?.on_hand ?? 0;
  }

  async levels(): Promise<Array<{ sku: string; onHand: number }>> {
    const rows = await StockLevel.query().orderBy('sku').all();
    return rows.map((row) => ({ sku: row.sku, onHand: row.on_hand }));
  }

  /** Add received stock; resolves with the new level. */
  async receive(sku: string, quantity: number): Promise<number> {
    return db().transaction(async () => {
      const level = await StockLevel.find(sku);
      if (!level) return (await StockLevel.create({ sku, on_hand: quantity })).on_hand;
      await level.increment('on_hand', quantity);
      return level.on_hand;
    });
  }

  /**
   * Reserve several lines all or nothing: each SKU (quantities of a repeated one summed) is
   * decremented only where enough is on hand, in one transaction; the first short line
   * rolls back the others. Low-stock events go out once the reservation committed.
   */
  async reserveAll(lines: ReadonlyArray<{ sku: string; quantity: number }>): Promise<void> {
    const wanted = new Map<string, number>();
    for (const line of lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    await db().transaction(async () => {
      for (const [sku, quantity] of wanted) {
        // One atomic statement: concurrent orders can never take the level below zero.
        const updated = await StockLevel.query()
          .where('sku', sku)
          .where('on_hand', '>=', quantity)
          .decrement('on_hand', quantity);
        if (updated === 0) throw new E_INSUFFICIENT_STOCK(sku, quantity, await this.level(sku));
        const left = await this.level(sku);
        if (left <= this.lowStockThreshold) {
          await db().afterCommit(() =>
            this.events.emit('inventory.stock-low', { sku, onHand: left }),
          );
        }
      }
    });
  }
}
