// Keel, from the built framework (`npm run build` at the repo root makes dist/), written as
// its docs teach; the routes and middlewares mirror the peers'.
import { pathToFileURL } from 'node:url';
import { createHttpApp } from '../../../dist/http/index.js';
import {
  applySecurityHeaders,
  BODY_LIMIT,
  closeOnSignal,
  logRequest,
  nullLogger,
  OrderSchema,
  portFromEnv,
  userBody,
} from './shared.mjs';

const logger = nullLogger();
/** The app, exported for peers that add to it (keel-observed.mjs). */
export const app = await createHttpApp({ logger: false });

// ctx.requestId applies the same rule as shared.requestIdFrom (echo a sane X-Request-Id,
// else a UUID), so Keel users get it without writing it.
async function requestId(ctx, next) {
  ctx.setHeader('x-request-id', ctx.requestId);
  await next();
}

// A terminating middleware logs after the response is sent, like the peers' finish hooks.
const requestLog = {
  async handle(ctx, next) {
    ctx.state.startedAt = process.hrtime.bigint();
    await next();
  },
  terminate(ctx) {
    logRequest(
      logger,
      ctx.requestId,
      ctx.method,
      ctx.req.url,
      ctx.res.statusCode,
      ctx.state.startedAt,
    );
  },
};

async function securityHeaders(ctx, next) {
  applySecurityHeaders((name, value) => ctx.setHeader(name, value));
  await next();
}

app.router.get('/hello', () => ({ hello: 'world' }));

app.router.get('/users/:id', (ctx) => userBody(ctx.params.id, ctx.query.fields));

// The body limit is the route's, as Fastify's `bodyLimit` is: a declared Content-Length over
// it is refused before a byte is read, and a chunked body is cut the moment it crosses it.
app.router
  .post('/orders', (ctx) => ({ ok: true, order: ctx.validated.body }))
  .middleware([requestId, requestLog, securityHeaders])
  .validate({ body: OrderSchema })
  .body({ limits: { json: BODY_LIMIT } });

/** Listen on the harness's port; prints `ready`, which the harness waits for. */
export async function serve() {
  await app.listen({ port: portFromEnv(), host: '127.0.0.1' });
  console.log('ready');
  closeOnSignal(() => app.close());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await serve();
