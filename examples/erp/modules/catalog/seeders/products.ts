import { defineSeeder } from 'keel/db';

/** The demo catalogue (`db:seed` twice changes nothing). */
export default defineSeeder({
  environments: ['development', 'test'],
  async run({ insertMissing }) {
    await insertMissing(
      'products',
      [
        { sku: 'CHAIR-01', name: 'Office chair', price: 12_900 },
        { sku: 'DESK-01', name: 'Standing desk', price: 49_900 },
      ],
      'sku',
    );
  },
});
