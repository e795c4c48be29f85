import type { EventBus } from 'keel';
import type { Cache } from 'keel/cache';
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

/** Tags of the cached catalogue: one per product, one for the listing. */
const productTag = (sku: string) => `catalog:products:${sku}`;
const LISTING_TAG = 'catalog:listing';

/**
 * The product catalogue, on the `products` table. Reads are cached in the `catalog` pool
 * (config/cache.ts) with tags; every write invalidates the product's tag and the listing's,
 * so a change is visible on the next read in every process sharing the pool's store.
 */
export class CatalogService {
  constructor(
    private readonly events: EventBus,
    readonly currency: string,
    private readonly cache: () => Cache,
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
    await this.#invalidate(product.sku);
    await this.events.emit('catalog.product-created', { sku: product.sku, name: product.name });
    return data(product);
  }

  find(sku: string): Promise<Product | null> {
    return Product.query().where('sku', sku).first();
  }

  /** One product, cached under its own tag (a missing SKU throws and caches nothing). */
  findOrFail(sku: string): Promise<ProductData> {
    return this.cache().remember(
      `product:${sku}`,
      { ttl: '10m', tags: [productTag(sku)] },
      async () => data(await this.#get(sku)),
    );
  }

  async update(sku: string, changes: Partial<Omit<ProductData, 'sku'>>): Promise<ProductData> {
    const product = await this.#get(sku);
    await product.fill(changes).save();
    await this.#invalidate(sku);
    return data(product);
  }

  /** Archive the product (soft delete): past orders keep pointing at it. */
  async remove(sku: string): Promise<void> {
    await (await this.#get(sku)).delete();
    await this.#invalidate(sku);
  }

  /** Every product, cached as one listing (served stale for a minute while it refreshes). */
  list(): Promise<ProductData[]> {
    return this.cache().remember(
      'products:all',
      { ttl: '10m', grace: '1m', tags: [LISTING_TAG] },
      async () => (await Product.query().orderBy('sku').all()).map(data),
    );
  }

  /** Drop what a write to `sku` made stale: the product and the listing. */
  #invalidate(sku: string): Promise<void> {
    return this.cache().invalidateTags([productTag(sku), LISTING_TAG]);
  }

  async #get(sku: string): Promise<Product> {
    const product = await this.find(sku);
    if (!product) throw new E_PRODUCT_NOT_FOUND(sku);
    return product;
  }
}
