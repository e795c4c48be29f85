// Express 5 with route-level middleware, `express.json({ limit })` as the body limit and a
// small Zod validation middleware, which is how Express users validate. Express defaults
// (ETag, X-Powered-By) are left on: that is what its users ship.
import express from 'express';
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
const app = express();

function requestId(req, res, next) {
  req.reqId = requestIdFrom(req.get('x-request-id'));
  res.set('x-request-id', req.reqId);
  next();
}

function requestLog(req, res, next) {
  const startedAt = process.hrtime.bigint();
  res.on('finish', () =>
    logRequest(logger, req.reqId, req.method, req.originalUrl, res.statusCode, startedAt),
  );
  next();
}

function securityHeaders(_req, res, next) {
  applySecurityHeaders((name, value) => res.set(name, value));
  next();
}

function validateBody(schema) {
  return (req, res, next) => {
    const result = schema.safeParse(req.body);
    if (!result.success) {
      res.status(400).json({ error: 'validation failed', issues: result.error.issues });
      return;
    }
    req.body = result.data;
    next();
  };
}

app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});

app.get('/users/:id', (req, res) => {
  res.json(userBody(req.params.id, req.query.fields));
});

app.post(
  '/orders',
  requestId,
  requestLog,
  securityHeaders,
  express.json({ limit: BODY_LIMIT }),
  validateBody(OrderSchema),
  (req, res) => {
    res.json({ ok: true, order: req.body });
  },
);

// body-parser errors (413, malformed JSON) carry a status; answer them as JSON, not HTML.
app.use((error, _req, res, _next) => {
  res.status(error.status ?? 500).json({ error: error.message });
});

const server = app.listen(portFromEnv(), '127.0.0.1', () => console.log('ready'));
closeOnSignal(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});
