import { column, defineModel } from 'keel/db';

/** Stock on hand for one SKU. */
export class StockLevel extends defineModel({
  table: 'stock_levels',
  primaryKey: 'sku',
  columns: {
    sku: column.string(),
    on_hand: column.integer(),
  },
  fillable: ['sku', 'on_hand'],
  hidden: ['created_at', 'updated_at'],
}) {}
