import type { EventBus } from 'keel';
import type { CatalogService } from '../catalog/catalog-service.js';
import type { StockLedger } from '../inventory/stock-ledger.js';

declare module 'keel/events' {
  interface EventMap {
    'orders.placed': { orderId: number; total: number; needsApproval: boolean };
  }
}

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface Order {
  id: number;
  lines: Array<OrderLine & { unitPrice: number }>;
  total: number;
  status: 'placed' | 'awaiting-approval';
}

export class UnknownProductError extends Error {
  constructor(readonly sku: string) {
    super(`Unknown product ${sku}`);
  }
}

/** Places orders: prices from the catalog, stock reserved in inventory. */
export class OrderService {
  readonly #orders: Order[] = [];

  constructor(
    private readonly catalog: CatalogService,
    private readonly inventory: StockLedger,
    private readonly events: EventBus,
    private readonly settings: { approvalThreshold: number; maxLines: number },
  ) {}

  async place(lines: OrderLine[]): Promise<Order> {
    if (lines.length === 0 || lines.length > this.settings.maxLines) {
      throw new RangeError(`An order has 1 to ${this.settings.maxLines} lines`);
    }
    const priced = lines.map((line) => {
      const product = this.catalog.find(line.sku);
      if (!product) throw new UnknownProductError(line.sku);
      return { ...line, unitPrice: product.price };
    });
    for (const line of priced) await this.inventory.reserve(line.sku, line.quantity);
    const total = priced.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    const needsApproval = total > this.settings.approvalThreshold;
    const order: Order = {
      id: this.#orders.length + 1,
      lines: priced,
      total,
      status: needsApproval ? 'awaiting-approval' : 'placed',
    };
    this.#orders.push(order);
    await this.events.emit('orders.placed', { orderId: order.id, total, needsApproval });
    return order;
  }

  list(): readonly Order[] {
    return this.#orders;
  }
}
