import { column, defineModel } from 'keel/db';

/** A product of the catalogue; prices in minor units (cents). Deleting one archives it. */
export class Product extends defineModel({
  table: 'products',
  columns: {
    id: column.id(),
    sku: column.string(),
    name: column.string(),
    price: column.integer(),
  },
  fillable: ['sku', 'name', 'price'],
  hidden: ['id', 'deleted_at'],
  softDeletes: true,
}) {}
