import { type Application, defineListeners } from 'keel';

// A module's events.ts may export a function of the application, so listeners can reach
// the services its providers bound.
export default (app: Application) =>
  defineListeners({
    'catalog.product-created': {
      name: 'open-stock-for-new-product',
      priority: 10,
      handle: async ({ sku }) => {
        await app
          .make('inventory')
          .receive(sku, app.config.get('inventory.initialStock') as number);
      },
    },
  });
