import { defineModule } from 'keel';
import { z } from 'zod';

export default defineModule({
  name: 'orders',
  version: '1.0.0',
  description: 'Order placement against catalog prices and inventory stock',
  dependsOn: { catalog: '^1.0.0', inventory: '^1.0.0' },
  // invoiceBacklogWarn: the `orders:invoices` health check warns above this many orders
  // waiting for their invoice.
  config: { approvalThreshold: 10_000, maxLines: 100, invoiceBacklogWarn: 100 },
  configSchema: z.object({
    approvalThreshold: z.number().int().min(0),
    maxLines: z.number().int().min(1),
    invoiceBacklogWarn: z.number().int().min(0),
  }),
  providers: async () => [(await import('./providers/orders-provider.js')).OrdersProvider],
  events: () => import('./events.js'),
  commands: () => import('./commands.js'),
  routes: () => import('./routes.js'),
  migrations: 'migrations',
  jobs: async () => {
    const { GenerateInvoice, DailySalesReport } = await import('./jobs.js');
    return [GenerateInvoice, DailySalesReport];
  },
});
