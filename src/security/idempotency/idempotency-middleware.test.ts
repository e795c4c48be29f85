import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp, type HttpApp } from '../../http/index.js';
import { requestFingerprint, scopedKey } from './idempotency-key.js';
import { idempotency, idempotentAlias } from './idempotency-middleware.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { MemoryIdempotencyStore } from './stores/memory-idempotency-store.js';
import { RedisIdempotencyStore } from './stores/redis-idempotency-store.js';

const apps: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function appWith(store: IdempotencyStore = new MemoryIdempotencyStore()) {
  const app = await createHttpApp();
  apps.push(app);
  const guard = idempotency({ store });
  const seen: unknown[] = [];
  app.router
    .post('/validated', (ctx) => {
      seen.push(ctx.validated.body);
      return { ok: true, body: ctx.validated.body };
    })
    .validate({ body: z.object({ amount: z.number().int() }) })
    .middleware([guard]);
  app.router
    .post('/form', async (ctx) => {
      const body = await ctx.body();
      seen.push(body);
      return { body };
    })
    .middleware([guard]);
  app.router
    .post('/stream', (ctx) => {
      seen.push('stream');
      return ctx.stream(Readable.from(['chunk-1;', Buffer.from('chunk-2;'), 'end']), 'text/csv');
    })
    .middleware([guard]);
  app.router
    .post('/direct', (ctx) => {
      seen.push('direct');
      const res = ctx.res;
      res.statusCode = 202;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.write('part one, ');
      res.end(Buffer.from('part two'));
    })
    .middleware([guard]);
  return { app, seen };
}

describe('idempotent middleware', () => {
  it('leaves the body readable for the handler: validated JSON and forms', async () => {
    const { app, seen } = await appWith();
    const send = (amount: unknown) =>
      app.inject({
        method: 'POST',
        url: '/validated',
        headers: { 'idempotency-key': 'v-1' },
        payload: { amount },
      });
    expect((await send(42)).json()).toEqual({ ok: true, body: { amount: 42 } });
    expect((await send(42)).headers['idempotent-replayed']).toBe('true');
    expect(seen).toEqual([{ amount: 42 }]);
    // A validation failure is a 4xx: stored, and replayed to the same bad request.
    const bad = await send('lots');
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'E_IDEMPOTENCY_KEY_REUSED' });

    const form = () =>
      app.inject({
        method: 'POST',
        url: '/form',
        headers: { 'idempotency-key': 'f-1', 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=bolt&qty=3',
      });
    expect((await form()).json()).toEqual({ body: { name: 'bolt', qty: '3' } });
    expect((await form()).json()).toEqual({ body: { name: 'bolt', qty: '3' } });
    expect(seen).toHaveLength(2);
  });

  it('stores and replays a validation failure (a 4xx) without revalidating', async () => {
    const { app, seen } = await appWith();
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/validated',
        headers: { 'idempotency-key': 'invalid-1' },
        payload: { amount: 1.5 },
      });
    const first = await send();
    expect(first.statusCode).toBe(422);
    const again = await send();
    expect(again.statusCode).toBe(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual({ ...first.json(), requestId: again.json().requestId });
    expect(seen).toEqual([]);
  });

  it('captures streamed and directly written responses', async () => {
    const { app, seen } = await appWith();
    for (const path of ['/stream', '/direct']) {
      const send = () =>
        app.inject({ method: 'POST', url: path, headers: { 'idempotency-key': `k${path}` } });
      const first = await send();
      const second = await send();
      expect(second.statusCode).toBe(first.statusCode);
      expect(second.payload).toBe(first.payload);
      expect(second.headers['content-type']).toBe(first.headers['content-type']);
      expect(second.headers['idempotent-replayed']).toBe('true');
    }
    expect(seen).toEqual(['stream', 'direct']);
  });

  it('runs 20 concurrent injected duplicates once', async () => {
    const app = await createHttpApp();
    apps.push(app);
    let calls = 0;
    let open!: () => void;
    const held = new Promise<void>((resolve) => {
      open = resolve;
    });
    app.router
      .post('/pay', async () => {
        calls++;
        await held;
        return { paid: true };
      })
      .middleware([idempotency({ store: new MemoryIdempotencyStore() })]);
    let settled = 0;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        app
          .inject({ method: 'POST', url: '/pay', headers: { 'idempotency-key': 'pay-1' } })
          .then((r) => {
            if (++settled === 19) open();
            return r;
          }),
      ),
    );
    expect(calls).toBe(1);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([
      200,
      ...Array.from({ length: 19 }, () => 409),
    ]);
  });

  it('refuses a key header sent twice on the wire (Node would join the copies)', async () => {
    const { app, seen } = await appWith();
    const { port } = await app.listen();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let out = '';
      socket.on('data', (chunk) => {
        out += String(chunk);
      });
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
      socket.write(
        'POST /form HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nidempotency-key: b\r\n' +
          'Content-Length: 0\r\nConnection: close\r\n\r\n',
      );
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('E_IDEMPOTENCY_KEY_INVALID');
    expect(raw).toContain('sent 2 times');
    expect(seen).toEqual([]);
  });

  it('answers 503 without running the handler when the store cannot be reached', async () => {
    const store = await RedisIdempotencyStore.connect({ options: { host: '127.0.0.1', port: 1 } });
    try {
      const { app, seen } = await appWith(store);
      const res = await app.inject({
        method: 'POST',
        url: '/form',
        headers: { 'idempotency-key': 'down-1' },
        payload: { a: 1 },
      });
      // A 5xx problem does not reveal its code to the client; the status says "retry".
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 503 });
      expect(seen).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('still answers when recording the response fails (the key stays claimed until its lock expires)', async () => {
    const memory = new MemoryIdempotencyStore();
    const failing: IdempotencyStore = {
      driver: 'failing',
      claim: (request) => memory.claim(request),
      complete: () => Promise.reject(new Error('disk full')),
      release: (key, token) => memory.release(key, token),
      prune: (now) => memory.prune(now),
    };
    const { app } = await appWith(failing);
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/form',
        headers: { 'idempotency-key': 'rec-1' },
        payload: { a: 1 },
      });
    expect((await send()).statusCode).toBe(200);
    expect((await send()).statusCode).toBe(409);
  });
});

describe('idempotentAlias', () => {
  it('reads required, optional and a retention from the alias arguments', async () => {
    const store = new MemoryIdempotencyStore();
    let now = 0;
    const alias = idempotentAlias(() => ({ store, clock: () => now }));
    const app = await createHttpApp();
    apps.push(app);
    app.middleware.register('idempotent', alias);
    let calls = 0;
    app.router.post('/a', () => ({ calls: ++calls })).middleware(['idempotent:required,1s']);
    app.router.post('/b', () => ({ calls: ++calls })).middleware(['idempotent:optional']);
    expect((await app.inject({ method: 'POST', url: '/a' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/b' })).statusCode).toBe(200);
    const a = () => app.inject({ method: 'POST', url: '/a', headers: { 'idempotency-key': 'x' } });
    await a();
    now = 999;
    expect((await a()).headers['idempotent-replayed']).toBe('true');
    now = 1000;
    expect((await a()).headers['idempotent-replayed']).toBeUndefined();
    expect(() => alias(['sometimes'])).toThrow(
      expect.objectContaining({ code: 'E_IDEMPOTENCY_CONFIG_INVALID' }),
    );
    expect(() => idempotency({ store, lockTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'E_IDEMPOTENCY_CONFIG_INVALID' }),
    );
  });
});

describe('fingerprints and scoped keys', () => {
  const base = { method: 'POST', path: '/orders', search: '', mediaType: 'application/json' };
  const fp = (body: string, over = {}) =>
    requestFingerprint({ ...base, ...over, body: Buffer.from(body) });

  it('treats equal JSON values as one body and anything else byte for byte', () => {
    expect(fp('{"a":1,"b":[1,{"c":2,"d":3}]}')).toBe(fp(' { "b" : [1, {"d":3,"c":2}], "a" : 1 } '));
    expect(fp('{"a":1}')).not.toBe(fp('{"a":"1"}'));
    // Not JSON: the same text as another media type, or bytes that fail to parse, differ.
    expect(fp('{"a":1}', { mediaType: 'text/plain' })).not.toBe(fp('{"a":1}'));
    expect(fp('{"a":1} ', { mediaType: 'text/plain' })).not.toBe(
      fp('{"a":1}', { mediaType: 'text/plain' }),
    );
    expect(fp('not json')).toBe(fp('not json'));
    expect(fp('{"a":1}', { search: 'x=1' })).not.toBe(fp('{"a":1}'));
    expect(fp('{"a":1}', { method: 'PUT' })).not.toBe(fp('{"a":1}'));
    // __proto__ stays data, and very deep nesting falls back to the bytes.
    expect(fp('{"__proto__":{"x":1}}')).not.toBe(fp('{}'));
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(fp(deep)).toBe(fp(deep));
    expect(fp(deep)).not.toBe(fp(`${'['.repeat(5000)} ${']'.repeat(5000)}`));
  });

  it('keeps the parts of a scoped key from running into each other', () => {
    expect(scopedKey('ip:1', 'POST', '/a', 'b')).not.toBe(scopedKey('ip:1', 'POST', '/a","b', ''));
    expect(scopedKey('user:1', 'POST', '/a', 'k')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('bodies the middleware reads first', () => {
  it('keeps a multipart upload available to the handler', async () => {
    const app = await createHttpApp();
    apps.push(app);
    const seen: unknown[] = [];
    app.router
      .post('/upload', async (ctx) => {
        const fields = await ctx.body();
        const files = ctx.bodyReader.files.map((f) => ({ name: f.filename, size: f.size }));
        seen.push({ fields, files });
        return { fields, files };
      })
      .middleware([idempotency({ store: new MemoryIdempotencyStore() })]);
    const boundary = 'keel-boundary';
    const payload = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="title"',
      '',
      'invoice',
      `--${boundary}`,
      'Content-Disposition: form-data; name="file"; filename="a.txt"',
      'Content-Type: text/plain',
      '',
      'hello upload',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/upload',
        headers: {
          'idempotency-key': 'upload-1',
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        payload,
      });
    const first = await send();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      fields: { title: 'invoice' },
      files: [{ name: 'a.txt', size: 12 }],
    });
    expect((await send()).headers['idempotent-replayed']).toBe('true');
    expect(seen).toHaveLength(1);
  });
});
