// Hono on @hono/node-server, with route-level middleware, Hono's own `bodyLimit` and
// `@hono/zod-validator`, the validator Hono's docs point to. Hono's built-in secureHeaders
// sets a different header set, so the shared six are set by a one-line middleware instead.
import { serve } from '@hono/node-server';
import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  applySecurityHeaders,
  BODY_LIMIT,
  closeOnSignal,
  logRequest,
  nullLogger,
  OrderSchema,
  portFromEnv,
  requestIdFrom,
  userBody,
} from './shared.mjs';

const logger = nullLogger();
const app = new Hono();

async function requestId(c, next) {
  const id = requestIdFrom(c.req.header('x-request-id'));
  c.set('reqId', id);
  c.header('x-request-id', id);
  await next();
}

async function requestLog(c, next) {
  const startedAt = process.hrtime.bigint();
  await next();
  logRequest(logger, c.get('reqId'), c.req.method, c.req.path, c.res.status, startedAt);
}

async function securityHeaders(c, next) {
  applySecurityHeaders((name, value) => c.header(name, value));
  await next();
}

app.get('/hello', (c) => c.json({ hello: 'world' }));

app.get('/users/:id', (c) => c.json(userBody(c.req.param('id'), c.req.query('fields'))));

app.post(
  '/orders',
  requestId,
  requestLog,
  securityHeaders,
  bodyLimit({
    maxSize: BODY_LIMIT,
    onError: (c) => c.json({ error: 'payload too large' }, 413),
  }),
  zValidator('json', OrderSchema),
  (c) => c.json({ ok: true, order: c.req.valid('json') }),
);

const server = serve({ fetch: app.fetch, port: portFromEnv(), hostname: '127.0.0.1' }, () =>
  console.log('ready'),
);
closeOnSignal(() => {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(resolve));
});
