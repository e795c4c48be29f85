import { defineError } from 'keel';

export const E_PRODUCT_NOT_FOUND = defineError(
  'E_PRODUCT_NOT_FOUND',
  (sku: string) => `No product with SKU ${sku}`,
  {
    status: 404,
    help: 'List products with GET /api/catalog/products.',
  },
);

export const E_PRODUCT_EXISTS = defineError(
  'E_PRODUCT_EXISTS',
  (sku: string) => `Product ${sku} already exists`,
  {
    status: 409,
    help: 'Use PATCH /api/catalog/products/:sku to change an existing product.',
  },
);
