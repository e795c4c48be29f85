// Raw node:http: the floor every framework is measured against. Routing, query parsing, the
// four middlewares and body reading are written by hand, the way a careful user would.
import { createServer } from 'node:http';
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

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** Reads at most BODY_LIMIT bytes; rejects with a status the moment the limit is crossed. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > BODY_LIMIT) {
      reject(Object.assign(new Error('payload too large'), { status: 413 }));
      req.resume();
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(Object.assign(new Error('payload too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function postOrders(req, res) {
  // 1. request id, 2. request log, 3. security headers, 4. body limit — then validate.
  const reqId = requestIdFrom(req.headers['x-request-id']);
  res.setHeader('x-request-id', reqId);
  const startedAt = process.hrtime.bigint();
  res.on('finish', () => logRequest(logger, reqId, req.method, req.url, res.statusCode, startedAt));
  applySecurityHeaders((name, value) => res.setHeader(name, value));

  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    send(res, 415, { error: 'unsupported media type' });
    return;
  }
  let raw;
  try {
    raw = await readBody(req);
  } catch (error) {
    send(res, error.status ?? 400, { error: error.message });
    return;
  }
  let data;
  try {
    data = JSON.parse(raw);
  } catch {
    send(res, 400, { error: 'malformed JSON' });
    return;
  }
  const parsed = OrderSchema.safeParse(data);
  if (!parsed.success) {
    send(res, 400, { error: 'validation failed', issues: parsed.error.issues });
    return;
  }
  send(res, 200, { ok: true, order: parsed.data });
}

const USERS = '/users/';

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);

  if (req.method === 'GET' && path === '/hello') {
    send(res, 200, { hello: 'world' });
    return;
  }
  if (req.method === 'GET' && path.startsWith(USERS) && path.indexOf('/', USERS.length) === -1) {
    const id = decodeURIComponent(path.slice(USERS.length));
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    send(res, 200, userBody(id, query.get('fields')));
    return;
  }
  if (req.method === 'POST' && path === '/orders') {
    postOrders(req, res).catch((error) => send(res, 500, { error: String(error) }));
    return;
  }
  send(res, 404, { error: 'not found' });
});

server.listen(portFromEnv(), '127.0.0.1', () => console.log('ready'));
closeOnSignal(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});
