// What every peer shares, so the only difference between two servers is the framework:
// the same Zod schema, the same six security headers, the same request-id rule, the same
// discarding pino logger and the same body limit. Each peer wires these in the way a user
// of that framework would (route-level middleware, hooks, pipes), but never reimplements them.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';

/** 1 MiB, the body limit of `POST /orders` on every peer. */
export const BODY_LIMIT = 1024 * 1024;

/** The body wrk posts (see ../post.lua) and verify.mjs checks the echo of. */
export const ORDER_BODY = { sku: 'CHAIR-01', quantity: 2, customer: { email: 'a@b.co' } };

/** One Zod 4 schema, validated by every peer (Fastify included, through its validator compiler). */
export const OrderSchema = z.object({
  sku: z.string().regex(/^[A-Z]+-\d+$/),
  quantity: z.number().int().positive().max(1000),
  customer: z.object({ email: z.email() }),
});

/** The six headers the security middleware sets, identical on every peer. */
export const SECURITY_HEADERS = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-xss-protection': '0',
  'cross-origin-opener-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
});

const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);

/** Sets the six security headers through whatever setter the framework offers. */
export function applySecurityHeaders(set) {
  for (const [name, value] of SECURITY_HEADER_ENTRIES) set(name, value);
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Echoes a sane incoming `X-Request-Id`, otherwise makes a UUID. Bounding the accepted
 * value keeps a hostile client from reflecting arbitrary bytes into our logs and headers.
 */
export function requestIdFrom(incoming) {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * A real pino logger whose destination drops every line: serialisation cost is paid (that is
 * what a request log costs), the I/O is not (that would measure the disk, not the framework).
 */
export function nullLogger() {
  const sink = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** The one line each peer logs when a `POST /orders` request completes. */
export function logRequest(logger, reqId, method, url, status, startedAt) {
  const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
  logger.info({ reqId, method, url, status, ms }, 'request completed');
}

/** `GET /users/:id?fields=a,b` → the same body on every peer. */
export function userBody(id, fields) {
  return { id, fields: String(fields ?? '').split(',') };
}

/** Port from the environment; a peer started without one is a harness bug, say so. */
export function portFromEnv() {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`PORT must be a TCP port, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  return port;
}

/** Closes the server on SIGTERM/SIGINT so the harness gets its port back promptly. */
export function closeOnSignal(close) {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    // Keep-alive sockets from the load generator can hold close() open; don't wait on them.
    setTimeout(() => process.exit(0), 1000).unref();
    Promise.resolve()
      .then(close)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
