import { defineError, type EventBus } from 'keel';
import { db } from 'keel/db';
import { executionContext } from 'keel/kernel';
import { dispatch } from 'keel/queue';
import type { CatalogService } from '../catalog/catalog-service.js';
import { Product } from '../catalog/models/product.js';
import type { StockLedger } from '../inventory/stock-ledger.js';
import { GenerateInvoice } from './jobs.js';
import { Order, OrderLine, type OrderStatus } from './models/order.js';
import type { OrderChannel, OrderMetrics } from './order-metrics.js';

declare module 'keel/events' {
  interface EventMap {
    'orders.placed': { orderId: number; total: number; needsApproval: boolean };
  }
}

export interface OrderLineInput {
  sku: string;
  quantity: number;
}

/** What the API shows of an order. */
export interface OrderData {
  id: number;
  lines: Array<OrderLineInput & { unitPrice: number }>;
  total: number;
  status: OrderStatus;
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

function data(order: Order): OrderData {
  return {
    id: order.id,
    status: order.status as OrderStatus,
    total: order.total,
    lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unit_price })),
  };
}

/** Places orders: prices from the catalog, stock reserved in inventory, all in one transaction. */
export class OrderService {
  constructor(
    readonly catalog: CatalogService,
    private readonly inventory: StockLedger,
    private readonly events: EventBus,
    private readonly settings: { approvalThreshold: number; maxLines: number },
    private readonly metrics?: OrderMetrics,
  ) {}

  /** Place an order; `channel` (the API by default) labels the `orders_placed_total` metric. */
  async place(lines: OrderLineInput[], channel: OrderChannel = 'api'): Promise<OrderData> {
    if (lines.length === 0 || lines.length > this.settings.maxLines) {
      throw new E_ORDER_LINES(this.settings.maxLines);
    }
    const order = await db().transaction(async () => {
      // One query for every product of the order, not one per line.
      const skus = [...new Set(lines.map((l) => l.sku))];
      const products = new Map(
        (await Product.query().whereIn('sku', skus).all()).map((p) => [p.sku, p]),
      );
      const priced = lines.map((line) => {
        const product = products.get(line.sku);
        if (!product) throw new E_UNKNOWN_PRODUCT(line.sku);
        return { ...line, unitPrice: product.price };
      });
      await this.inventory.reserveAll(priced);
      const total = priced.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
      const needsApproval = total > this.settings.approvalThreshold;
      const created = await Order.create({
        status: needsApproval ? 'awaiting-approval' : 'placed',
        total,
      });
      // Every later line of the request names the order: the listeners' and its access log line.
      executionContext.annotate({ order_id: created.id });
      await OrderLine.createMany(
        priced.map((l) => ({
          order_id: created.id,
          sku: l.sku,
          quantity: l.quantity,
          unit_price: l.unitPrice,
        })),
      );
      // Queued in this transaction: the invoice job exists if and only if the order does.
      await dispatch(new GenerateInvoice({ orderId: created.id }));
      // Listeners (mail, approval queue) hear of the order only once it exists for good.
      await db().afterCommit(() =>
        this.events.emit('orders.placed', { orderId: created.id, total, needsApproval }),
      );
      return created;
    });
    // Counted once committed: a refused or rolled-back order is no business.
    this.metrics?.placed(channel, order.status as OrderStatus, order.total);
    await order.load('lines');
    return data(order);
  }

  /** Every order with its lines: two queries, whatever the number of orders. */
  async list(): Promise<OrderData[]> {
    return (await Order.query().with('lines').orderBy('id').all()).map(data);
  }
}
