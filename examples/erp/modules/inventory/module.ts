import { defineModule } from 'keel';
import { z } from 'zod';

export default defineModule({
  name: 'inventory',
  version: '1.0.0',
  description: 'Stock levels per product',
  dependsOn: { catalog: '^1.0.0' },
  config: { lowStockThreshold: 5, initialStock: 20 },
  configSchema: z.object({
    lowStockThreshold: z.number().int().min(0),
    initialStock: z.number().int().min(0),
  }),
  providers: async () => [(await import('./providers/inventory-provider.js')).InventoryProvider],
  events: () => import('./events.js'),
  commands: () => import('./commands.js'),
  routes: () => import('./routes.js'),
  migrations: 'migrations',
  seeders: 'seeders',
});
