import type { Application } from 'keel';
import type { HttpContext, Router } from 'keel/http';
import { z } from 'zod';

export default (router: Router, app: Application) => {
  // Stock levels are public; receiving goods takes `inventory.receive` (the admin).
  router.group({ prefix: '/api/inventory', name: 'inventory.', groups: ['api'] }, (r) => {
    r.get('/levels', async () => ({ data: await app.make('inventory').levels() })).name('levels');
    r.post('/levels/:sku/receive', async (ctx: HttpContext) => {
      const { quantity } = ctx.validated.body as { quantity: number };
      await app.make('catalog').findOrFail(ctx.params.sku!);
      const onHand = await app.make('inventory').receive(ctx.params.sku!, quantity);
      return { sku: ctx.params.sku, onHand };
    })
      .name('receive')
      .middleware(['auth:api', 'can:inventory.receive'])
      .validate({ body: z.object({ quantity: z.number().int().min(1).max(1_000_000) }) });
  });
};
