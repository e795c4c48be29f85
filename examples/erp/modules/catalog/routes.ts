import type { Application } from 'keel';
import type { HttpContext, Router } from 'keel/http';
import { z } from 'zod';

const ProductInput = z.object({
  sku: z.string().regex(/^[A-Z0-9-]{3,32}$/, 'SKU: 3–32 upper-case letters, digits or dashes'),
  name: z.string().trim().min(1).max(200),
  price: z.number().int().min(0).max(100_000_000),
});
const ProductPatch = ProductInput.omit({ sku: true }).partial();
const SkuParams = z.object({ sku: z.string().min(1).max(32) });

export default (router: Router, app: Application) => {
  const catalog = () => app.make('catalog');
  // Anyone may browse; changing products takes a token with `catalog.manage` (the admin).
  const manage = ['auth:api', 'can:catalog.manage'];
  router.group({ prefix: '/api/catalog', name: 'catalog.', groups: ['api'] }, (r) => {
    r.get('/products', async () => ({
      data: await catalog().list(),
      currency: catalog().currency,
    })).name('products.index');
    r.get('/products/:sku', (ctx: HttpContext) => catalog().findOrFail(ctx.params.sku!))
      .name('products.show')
      .validate({ params: SkuParams });
    r.post('/products', async (ctx: HttpContext) => {
      const product = await catalog().create(ctx.validated.body as z.infer<typeof ProductInput>);
      ctx.status(201);
      return product;
    })
      .name('products.store')
      .middleware(manage)
      .validate({ body: ProductInput });
    r.patch('/products/:sku', (ctx: HttpContext) =>
      catalog().update(ctx.params.sku!, ctx.validated.body as z.infer<typeof ProductPatch>),
    )
      .name('products.update')
      .middleware(manage)
      .validate({ params: SkuParams, body: ProductPatch });
    r.delete('/products/:sku', async (ctx: HttpContext) => {
      await catalog().remove(ctx.params.sku!);
    })
      .name('products.destroy')
      .middleware(manage)
      .validate({ params: SkuParams });
  });
};
