import type { Application } from 'keel';
import type { HttpContext, Router } from 'keel/http';
import { z } from 'zod';

const PlaceOrder = z.object({
  lines: z
    .array(
      z.object({
        sku: z.string().min(1).max(32),
        quantity: z.number().int().min(1).max(10_000),
      }),
    )
    .min(1)
    .max(100),
});

export default (router: Router, app: Application) => {
  router.group({ prefix: '/api/orders', name: 'orders.' }, (r) => {
    r.get('/', async () => ({ data: await app.make('orders').list() })).name('index');
    r.post('/', async (ctx: HttpContext) => {
      const order = await app
        .make('orders')
        .place((ctx.validated.body as z.infer<typeof PlaceOrder>).lines);
      ctx.status(201);
      return order;
    })
      .name('place')
      .validate({ body: PlaceOrder });
  });
};
