import { column, defineModel } from 'keel/db';

/** One line of an order, priced when the order was placed. */
export class OrderLine extends defineModel({
  table: 'order_lines',
  columns: {
    id: column.id(),
    order_id: column.integer(),
    sku: column.string(),
    quantity: column.integer(),
    unit_price: column.integer(),
  },
  fillable: ['order_id', 'sku', 'quantity', 'unit_price'],
  hidden: ['id', 'order_id'],
  timestamps: false,
}) {}

export type OrderStatus = 'placed' | 'awaiting-approval';

/** An order and its lines (`Order.query().with('lines')` loads them in one query). */
export class Order extends defineModel({
  table: 'orders',
  columns: {
    id: column.id(),
    status: column.string(),
    total: column.integer(),
  },
  fillable: ['status', 'total'],
  hidden: ['updated_at'],
}) {
  get lines() {
    return this.hasMany(() => OrderLine, 'order_id');
  }
}
