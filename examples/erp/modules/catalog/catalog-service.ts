import type { EventBus } from 'keel';
import { E_DB_UNIQUE_VIOLATION } from 'keel/db';
import { E_PRODUCT_EXISTS, E_PRODUCT_NOT_FOUND } from './errors.js';
import { Product } from './models/product.js';

/** What the API shows of a product. */
export interface ProductData {
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

function data(product: Product): ProductData {
  return { sku: product.sku, name: product.name, price: product.price };
}

/** The product catalogue, on the `products` table. */
export class CatalogService {
  constructor(
    private readonly events: EventBus,
    readonly currency: string,
  ) {}

  async create(input: ProductData): Promise<ProductData> {
    let product: Product;
    try {
      product = await Product.create(input);
    } catch (error) {
      // The unique index decides, not a racy "find first": two concurrent creates of the
      // same SKU get one 201 and one 409.
      if (E_DB_UNIQUE_VIOLATION.is(error)) throw new E_PRODUCT_EXISTS(input.sku);
      throw error;
    }
    await this.events.emit('catalog.product-created', { sku: product.sku, name: product.name });
    return data(product);
  }

  find(sku: string): Promise<Product | null> {
    return Product.query().where('sku', sku).first();
  }

  async findOrFail(sku: string): Promise<ProductData> {
    return data(await this.#get(sku));
  }

  async update(sku: string, changes: Partial<Omit<ProductData, 'sku'>>): Promise<ProductData> {
    const product = await this.#get(sku);
    await product.fill(changes).save();
    return data(product);
  }

  /** Archive the product (soft delete): past orders keep pointing at it. */
  async remove(sku: string): Promise<void> {
    await (await this.#get(sku)).delete();
  }

  async list(): Promise<ProductData[]> {
    return (await Product.query().orderBy('sku').all()).map(data);
  }

  async #get(sku: string): Promise<Product> {
    const product = await this.find(sku);
    if (!product) throw new E_PRODUCT_NOT_FOUND(sku);
    return product;
  }
}
