import type { EventBus } from 'keel';
import { E_PRODUCT_EXISTS, E_PRODUCT_NOT_FOUND } from './errors.js';

export interface Product {
  sku: string;
  name: string;
  /** Price in minor units (cents), in the catalog currency. */
  price: number;
}

declare module 'keel/events' {
  interface EventMap {
    'catalog.product-created': { sku: string; name: string };
  }
}

/** The product catalogue (in memory until the database issue gives it a table). */
export class CatalogService {
  readonly #products = new Map<string, Product>();

  constructor(
    private readonly events: EventBus,
    readonly currency: string,
  ) {}

  async create(product: Product): Promise<Product> {
    if (this.#products.has(product.sku)) throw new E_PRODUCT_EXISTS(product.sku);
    this.#products.set(product.sku, { ...product });
    await this.events.emit('catalog.product-created', { sku: product.sku, name: product.name });
    return product;
  }

  find(sku: string): Product | undefined {
    return this.#products.get(sku);
  }

  findOrFail(sku: string): Product {
    const product = this.#products.get(sku);
    if (!product) throw new E_PRODUCT_NOT_FOUND(sku);
    return product;
  }

  update(sku: string, changes: Partial<Omit<Product, 'sku'>>): Product {
    const product = { ...this.findOrFail(sku), ...changes };
    this.#products.set(sku, product);
    return product;
  }

  remove(sku: string): void {
    this.findOrFail(sku);
    this.#products.delete(sku);
  }

  list(): Product[] {
    return [...this.#products.values()].sort((a, b) => a.sku.localeCompare(b.sku));
  }
}
