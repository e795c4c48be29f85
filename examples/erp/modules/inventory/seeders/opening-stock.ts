import { defineSeeder } from 'keel/db';

/** Opening stock for every product without a stock level (runs after catalog's seeders). */
export default defineSeeder({
  environments: ['development', 'test'],
  async run({ db, insertMissing }) {
    const products = await db.selectFrom('products').select('sku').execute();
    await insertMissing(
      'stock_levels',
      products.map(({ sku }: { sku: string }) => ({ sku, on_hand: 20 })),
      'sku',
    );
  },
});
