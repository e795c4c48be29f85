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
  // API clients authenticate with a bearer token (POST /api/tokens); the clerk may view and
  // place orders. A retried placement with the same Idempotency-Key is answered from the
  // first one's stored response instead of placing a second order.
  router.group({ prefix: '/api/orders', name: 'orders.', groups: ['api'] }, (r) => {
    r.get('/', async () => ({ data: await app.make('orders').list() }))
      .name('index')
      .middleware(['auth:api', 'can:orders.view']);
    r.post('/', async (ctx: HttpContext) => {
      const order = await app
        .make('orders')
        .place((ctx.validated.body as z.infer<typeof PlaceOrder>).lines);
      ctx.status(201);
      return order;
    })
      .name('place')
      .middleware(['auth:api', 'can:orders.place', 'idempotent'])
      .validate({ body: PlaceOrder });
  });
};
