import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp, type HttpApp } from './http-app.js';

// The request path registers no `once` listener. Every `once` in the process allocates its
// wrapper at one site inside Node's events module; once long-lived wrappers (a connection's
// 'close') have made V8 pretenure that site, a per-request `once` is born in the old
// generation and keeps the request's young closures alive through every scavenge. Measured
// on the HTTP benchmark's POST /orders: scavenges of 19 ms instead of 1 ms, half the
// throughput. No timing here: the test holds the cause, the listeners Keel registers.

let app: HttpApp;
let port: number;
/** Stacks of the `once` calls made while Keel's sources are on the stack. */
let keelOnces: string[];
/** Those among them that Keel's own code made (not Node's stream pipeline it called). */
let ownOnces: string[];
const original = EventEmitter.prototype.once;

beforeEach(async () => {
  keelOnces = [];
  ownOnces = [];
  app = await createHttpApp();
  app.router
    .post('/orders', (ctx) => ({ ok: true, order: ctx.validated.body }))
    .validate({ body: z.object({ sku: z.string(), quantity: z.number().int().positive() }) })
    .middleware([
      {
        async handle(_ctx, next) {
          await next();
        },
        terminate() {},
      },
    ]);
  app.router.post('/upload', async (ctx) => {
    const fields = await ctx.body<Record<string, unknown>>();
    return { fields, files: ctx.bodyReader.files.map((file) => file.size) };
  });
  app.router.post('/echo', async (ctx) => ({ echoed: await ctx.body() }));
  // A request scope: the kernel releases it when the response closes.
  app.router.get('/scoped', (ctx) => ({ scoped: ctx.container !== undefined }));
  ({ port } = await app.listen());
  EventEmitter.prototype.once = function once(this: EventEmitter, event, listener) {
    const stack = new Error().stack ?? '';
    const frames = stack.split('\n').slice(2);
    const keel = (frame: string) => frame.includes('/src/') && !frame.includes('.test.ts');
    if (frames.some(keel)) keelOnces.push(`${String(event)}\n${frames.join('\n')}`);
    if (frames[0] !== undefined && keel(frames[0])) ownOnces.push(`${String(event)}\n${frames[0]}`);
    return original.call(this, event, listener);
  };
});

afterEach(async () => {
  EventEmitter.prototype.once = original;
  await app.close();
});

describe('the request path', () => {
  it('reads a JSON body, validates it and answers without a once listener', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: `SKU-${i}`, quantity: i + 1 }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        ok: true,
        order: { sku: `SKU-${i}`, quantity: i + 1 },
      });
    }
    expect(keelOnces).toEqual([]);
  });

  it('accepts connections and releases a request scope without a once listener', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/scoped`, {
      headers: { connection: 'close' },
    });
    expect(await response.json()).toEqual({ scoped: true });
    expect(keelOnces).toEqual([]);
  });

  // Uploads and compressed bodies stream through Node's `pipeline`, which registers its own
  // `once` listeners; Keel's code around it registers none.
  it('reads a multipart upload and a gzip body without a once listener of its own', async () => {
    const form = new FormData();
    form.append('title', 'Q1');
    form.append('report', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'q1.csv');
    const upload = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: form });
    expect(await upload.json()).toEqual({ fields: { title: 'Q1' }, files: [8] });
    const gzipped = await fetch(`http://127.0.0.1:${port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ compressed: true })),
    });
    expect(await gzipped.json()).toEqual({ echoed: { compressed: true } });
    expect(ownOnces).toEqual([]);
  });

  it('still refuses a body that fails validation, and still aborts on a broken one', async () => {
    const invalid = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'X', quantity: -1 }),
    });
    expect(invalid.status).toBe(422);
    const malformed = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sku":',
    });
    expect(malformed.status).toBe(400);
    expect(keelOnces).toEqual([]);
  });
});
