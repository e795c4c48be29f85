import { defineModule } from 'keel';
import { z } from 'zod';

export default defineModule({
  name: 'catalog',
  version: '1.0.0',
  description: 'Products and prices',
  config: () => import('./config.js'),
  configSchema: z.object({
    currency: z.string().length(3),
    pageSize: z.number().int().min(1).max(500),
  }),
  providers: async () => [(await import('./providers/catalog-provider.js')).CatalogProvider],
  events: () => import('./events.js'),
  commands: () => import('./commands.js'),
  routes: () => import('./routes.js'),
  hooks: () => import('./hooks.js'),
  migrations: 'migrations',
  seeders: 'seeders',
});
