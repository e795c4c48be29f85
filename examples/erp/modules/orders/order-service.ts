import { defineError, type EventBus } from 'keel';
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

export const E_UNKNOWN_PRODUCT = defineError(
  'E_UNKNOWN_PRODUCT',
  (sku: string) => `Unknown product ${sku}`,
  {
    status: 422,
    help: 'Order only SKUs listed by GET /api/catalog/products.',
  },
);

export const E_ORDER_LINES = defineError(
  'E_ORDER_LINES',
  (max: number) => `An order has 1 to ${max} lines`,
  {
    status: 422,
    help: 'Split large orders.',
  },
);

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
      throw new E_ORDER_LINES(this.settings.maxLines);
    }
    const priced = lines.map((line) => {
      const product = this.catalog.find(line.sku);
      if (!product) throw new E_UNKNOWN_PRODUCT(line.sku);
      return { ...line, unitPrice: product.price };
    });
    await this.inventory.reserveAll(priced);
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
