import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../http/index.js';
import { defineError } from '../../support/index.js';
import { type IdempotencyOptions, idempotency } from './idempotency-middleware.js';
import type { ClaimRequest, IdempotencyStore, StoredResponse } from './idempotency-store.js';

/** What a store's test gives the suite: the store, and how to drop what it made. */
export interface IdempotencyStoreFixture {
  store: IdempotencyStore;
  cleanup?: () => Promise<void>;
}

const E_ORDER_NOT_FOUND = defineError(
  'E_ORDER_NOT_FOUND',
  (id: string) => `Order ${id} does not exist`,
  { status: 404, help: 'Use an existing order id.' },
);

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const hex = (n: number): string => randomBytes(n).toString('hex');

/**
 * The conformance suite every IdempotencyStore runs: atomic claims under concurrency, replay
 * of stored responses byte for byte, fencing of stale holders, lock expiry and takeover,
 * retention, release, prune; then the `idempotent` middleware end to end on the store
 * (replay, 20 concurrent duplicates through a real socket, 422 for a reused key, 5xx
 * release, crashed claims, hostile keys). Time is a clock the suite moves: nothing waits.
 *
 * @example
 * ```ts
 * idempotencyStoreContract('memory', async () => ({ store: new MemoryIdempotencyStore() }));
 * ```
 */
export function idempotencyStoreContract(
  title: string,
  setup: () => Promise<IdempotencyStoreFixture>,
): void {
  describe(`IdempotencyStore contract: ${title}`, () => {
    let fixture: IdempotencyStoreFixture | undefined;
    let store: IdempotencyStore;
    let now = Date.UTC(2026, 10, 27, 9, 0, 0);
    beforeAll(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });
    beforeEach(() => {
      // Each test moves the clock forward a day: nothing one test wrote is fresh in the next.
      now += 86_400_000 * 3;
    });

    const claim = (over: Partial<ClaimRequest> & { key: string }): ClaimRequest => ({
      fingerprint: 'f'.repeat(64),
      token: randomUUID(),
      now,
      lockedUntil: now + 60_000,
      expiresAt: now + 3_600_000,
      ...over,
    });
    const response: StoredResponse = {
      status: 201,
      headers: { 'content-type': 'application/octet-stream', link: ['<a>; rel=a', '<b>; rel=b'] },
      body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    };

    describe('store', () => {
      it('gives a free key to exactly one of many concurrent claims', async () => {
        const key = hex(32);
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.claim(claim({ key }))),
        );
        expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
        for (const r of results.filter((r) => r.kind !== 'claimed'))
          expect(r).toEqual({
            kind: 'in-flight',
            fingerprint: 'f'.repeat(64),
            lockedUntil: now + 60_000,
          });
      });

      it('stores a completed response and returns it byte for byte to later claims', async () => {
        const key = hex(32);
        const first = claim({ key });
        expect(await store.claim(first)).toEqual({ kind: 'claimed' });
        expect(await store.complete(key, first.token, response, now, now + 3_600_000)).toBe(true);
        const again = await store.claim(claim({ key, now: now + 1000 }));
        expect(again).toEqual({ kind: 'completed', fingerprint: 'f'.repeat(64), response });
        // Completed once: a second complete, a release and a takeover all change nothing.
        expect(
          await store.complete(key, first.token, { ...response, status: 500 }, now, now + 1),
        ).toBe(false);
        expect(await store.release(key, first.token)).toBe(false);
        const late = await store.claim(claim({ key, now: now + 120_000 }));
        expect(late.kind).toBe('completed');
        // Another fingerprint learns the stored one (the middleware answers 422).
        const other = await store.claim(claim({ key, fingerprint: 'e'.repeat(64) }));
        expect(other).toMatchObject({ kind: 'completed', fingerprint: 'f'.repeat(64) });
      });

      it('keeps an empty body and an omitted body apart', async () => {
        const empty = hex(32);
        const omitted = hex(32);
        for (const [key, body] of [
          [empty, Buffer.alloc(0)],
          [omitted, null],
        ] as const) {
          const c = claim({ key });
          await store.claim(c);
          expect(
            await store.complete(
              key,
              c.token,
              { status: 204, headers: {}, body },
              now,
              now + 60_000,
            ),
          ).toBe(true);
        }
        expect(await store.claim(claim({ key: empty }))).toMatchObject({
          kind: 'completed',
          response: { status: 204, headers: {}, body: Buffer.alloc(0) },
        });
        expect(await store.claim(claim({ key: omitted }))).toMatchObject({
          kind: 'completed',
          response: { status: 204, headers: {}, body: null },
        });
      });

      it('lets a claim of the same request take over an in-flight key only once its lock expired', async () => {
        const key = hex(32);
        const first = claim({ key });
        await store.claim(first);
        expect(await store.claim(claim({ key, now: now + 59_999 }))).toMatchObject({
          kind: 'in-flight',
        });
        // Another request never takes over, even after the lock (it is told in-flight, with the first fingerprint).
        expect(
          await store.claim(claim({ key, now: now + 60_000, fingerprint: 'e'.repeat(64) })),
        ).toEqual({
          kind: 'in-flight',
          fingerprint: 'f'.repeat(64),
          lockedUntil: now + 60_000,
        });
        const takers = Array.from({ length: 10 }, () =>
          claim({ key, now: now + 60_000, lockedUntil: now + 120_000 }),
        );
        const results = await Promise.all(takers.map((t) => store.claim(t)));
        expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
        const owner = takers[results.findIndex((r) => r.kind === 'claimed')]!;
        // Fencing: the stale first holder can neither complete nor release.
        expect(await store.complete(key, first.token, response, now, now + 3_600_000)).toBe(false);
        expect(await store.release(key, first.token)).toBe(false);
        expect(
          await store.complete(
            key,
            owner.token,
            { ...response, status: 202 },
            now,
            now + 3_600_000,
          ),
        ).toBe(true);
        expect(await store.claim(claim({ key }))).toMatchObject({
          kind: 'completed',
          response: { status: 202 },
        });
      });

      it('frees a released key, and only for the holder of the claim', async () => {
        const key = hex(32);
        const first = claim({ key });
        await store.claim(first);
        expect(await store.release(key, randomUUID())).toBe(false);
        expect(await store.release(key, first.token)).toBe(true);
        expect(await store.release(key, first.token)).toBe(false);
        const second = claim({ key, fingerprint: 'e'.repeat(64) });
        expect(await store.claim(second)).toEqual({ kind: 'claimed' });
        expect(await store.complete(key, first.token, response, now, now + 60_000)).toBe(false);
      });

      it('forgets a key after its retention, in flight or completed', async () => {
        const done = hex(32);
        const c = claim({ key: done });
        await store.claim(c);
        await store.complete(done, c.token, response, now, now + 10_000);
        expect((await store.claim(claim({ key: done, now: now + 9_999 }))).kind).toBe('completed');
        const fresh = claim({ key: done, now: now + 10_000, fingerprint: 'e'.repeat(64) });
        expect(await store.claim(fresh)).toEqual({ kind: 'claimed' });
        expect(await store.complete(done, c.token, response, now, now + 60_000)).toBe(false);

        const stuck = hex(32);
        await store.claim(
          claim({ key: stuck, lockedUntil: now + 5_000_000, expiresAt: now + 20_000 }),
        );
        expect(
          await store.claim(claim({ key: stuck, now: now + 20_000, fingerprint: 'e'.repeat(64) })),
        ).toEqual({
          kind: 'claimed',
        });
      });

      it('prunes expired records and keeps live ones', async () => {
        const old = hex(32);
        const live = hex(32);
        await store.claim(claim({ key: old, expiresAt: now + 1000 }));
        const l = claim({ key: live });
        await store.claim(l);
        await store.complete(live, l.token, response, now, now + 3_600_000);
        const removed = await store.prune(now + 1000);
        // Redis expires keys by itself; the others delete at least the old one.
        if (store.driver === 'redis') expect(removed).toBe(0);
        else expect(removed).toBeGreaterThanOrEqual(1);
        expect((await store.claim(claim({ key: live, now: now + 1000 }))).kind).toBe('completed');
        expect((await store.claim(claim({ key: old, now: now + 1000 }))).kind).toBe('claimed');
      });
    });

    describe('idempotent middleware', () => {
      let app: HttpApp;
      let calls: number;
      let hold: { promise: Promise<void>; open: () => void } | undefined;
      const routeKey = () => `order-${hex(8)}`;

      const setupApp = async (over: Partial<IdempotencyOptions> = {}): Promise<HttpApp> => {
        const created = await createHttpApp();
        const guard = idempotency({
          store,
          clock: () => now,
          retentionMs: 3_600_000,
          lockTimeoutMs: 30_000,
          ...over,
        });
        calls = 0;
        hold = undefined;
        created.router
          .post('/orders', async (ctx) => {
            const id = ++calls;
            const body = await ctx.body<{ item?: string }>();
            if (hold) await hold.promise;
            ctx.status(201).setHeader('location', `/orders/${id}`).cookie('seen', String(id));
            return { id, item: body?.item ?? null };
          })
          .middleware([guard]);
        created.router
          .put('/orders/:id', async (ctx) => {
            calls++;
            if (ctx.params.id === 'missing') throw new E_ORDER_NOT_FOUND(ctx.params.id);
            if (ctx.params.id === 'boom' && calls === 1) throw new Error('database went away');
            if (ctx.params.id === 'busy' && calls === 1) return ctx.json({ later: true }, 503);
            if (ctx.params.id === 'big') return ctx.text('x'.repeat(2000));
            return { id: ctx.params.id, calls };
          })
          .middleware([guard]);
        created.router.get('/orders', () => ({ calls: ++calls })).middleware([guard]);
        created.router.delete('/orders/:id', () => undefined).middleware([guard]);
        return created;
      };

      const post = (key: string | undefined, body: unknown = { item: 'bolt' }, headers = {}) =>
        app.inject({
          method: 'POST',
          url: '/orders',
          headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers },
          payload: body as Record<string, unknown>,
        });

      beforeEach(async () => {
        app = await setupApp();
      });

      it('replays the stored status, headers and body, marked, without running the handler again', async () => {
        const key = routeKey();
        const first = await post(key);
        expect(first.statusCode).toBe(201);
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        const second = await post(key);
        expect(calls).toBe(1);
        expect(second.statusCode).toBe(201);
        expect(second.rawPayload.equals(first.rawPayload)).toBe(true);
        expect(second.json()).toEqual({ id: 1, item: 'bolt' });
        expect(second.headers.location).toBe('/orders/1');
        expect(second.headers['content-type']).toBe(first.headers['content-type']);
        expect(second.headers['idempotent-replayed']).toBe('true');
        // Cookies and request ids belong to one response only.
        expect(first.headers['set-cookie']).toBeDefined();
        expect(second.headers['set-cookie']).toBeUndefined();
        expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
        // The same JSON value, re-encoded with other key order and spacing, is the same request.
        const reordered = await app.inject({
          method: 'POST',
          url: '/orders',
          headers: { 'idempotency-key': key, 'content-type': 'application/json' },
          payload: '{ "item" :   "bolt" }',
        });
        expect(reordered.statusCode).toBe(201);
        expect(reordered.headers['idempotent-replayed']).toBe('true');
        expect(calls).toBe(1);
      });

      it('runs 20 identical concurrent requests over a real socket once: one result, the rest 409 or replays', async () => {
        const { url } = await app.listen();
        try {
          hold = gate();
          const key = routeKey();
          const send = () =>
            fetch(`${url}/orders`, {
              method: 'POST',
              headers: { 'idempotency-key': key, 'content-type': 'application/json' },
              body: JSON.stringify({ item: 'nut' }),
            }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() }));
          const settled: Array<{ status: number; headers: Headers; body: string }> = [];
          const requests = Array.from({ length: 20 }, () =>
            send().then((r) => {
              settled.push(r);
              // The first holds in its handler: once the 19 others answered, let it finish.
              if (settled.length === 19) hold?.open();
              return r;
            }),
          );
          const responses = await Promise.all(requests);
          expect(calls).toBe(1);
          const created = responses.filter((r) => r.status === 201);
          const conflicts = responses.filter((r) => r.status === 409);
          expect(created).toHaveLength(1);
          expect(conflicts).toHaveLength(19);
          for (const c of conflicts) {
            expect(JSON.parse(c.body)).toMatchObject({
              code: 'E_IDEMPOTENCY_IN_FLIGHT',
              status: 409,
            });
            expect(c.headers.get('content-type')).toContain('application/problem+json');
            expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          }
          const replayed = await send();
          expect(replayed.status).toBe(201);
          expect(replayed.headers.get('idempotent-replayed')).toBe('true');
          expect(replayed.body).toBe(created[0]!.body);
          expect(calls).toBe(1);
        } finally {
          hold?.open();
          await app.close();
        }
      });

      it('answers 422 when the key comes back with another body or path', async () => {
        const key = routeKey();
        expect((await post(key, { item: 'bolt' })).statusCode).toBe(201);
        const other = await post(key, { item: 'washer' });
        expect(other.statusCode).toBe(422);
        expect(other.json()).toMatchObject({ code: 'E_IDEMPOTENCY_KEY_REUSED' });
        const put = (id: string) =>
          app.inject({ method: 'PUT', url: `/orders/${id}`, headers: { 'idempotency-key': key } });
        expect((await put('5')).statusCode).toBe(200);
        // Same route pattern, another order: not the same request.
        expect((await put('6')).statusCode).toBe(422);
        expect((await put('5?dry_run=1')).statusCode).toBe(422);
        expect(calls).toBe(2);
      });

      it('stores 4xx results (they replay) and releases the key on 5xx (the retry runs)', async () => {
        const key = routeKey();
        const put = (id: string) =>
          app.inject({ method: 'PUT', url: `/orders/${id}`, headers: { 'idempotency-key': key } });
        const missing = await put('missing');
        expect(missing.statusCode).toBe(404);
        const again = await put('missing');
        expect(again.statusCode).toBe(404);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.json()).toMatchObject({ code: 'E_ORDER_NOT_FOUND' });
        expect(again.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(calls).toBe(1);

        for (const id of ['boom', 'busy']) {
          app = await setupApp();
          const k = routeKey();
          const failed = await app.inject({
            method: 'PUT',
            url: `/orders/${id}`,
            headers: { 'idempotency-key': k },
          });
          expect(failed.statusCode).toBeGreaterThanOrEqual(500);
          const retried = await app.inject({
            method: 'PUT',
            url: `/orders/${id}`,
            headers: { 'idempotency-key': k },
          });
          expect(retried.statusCode).toBe(200);
          expect(retried.headers['idempotent-replayed']).toBeUndefined();
          expect(calls).toBe(2);
        }
      });

      it('treats a key past its retention as a new request', async () => {
        const key = routeKey();
        await post(key);
        now += 3_600_000 - 1;
        expect((await post(key)).headers['idempotent-replayed']).toBe('true');
        now += 1;
        const fresh = await post(key, { item: 'different, and allowed now' });
        expect(fresh.statusCode).toBe(201);
        expect(fresh.headers['idempotent-replayed']).toBeUndefined();
        expect(calls).toBe(2);
      });

      it('lets a retry take over a claim whose holder hangs or died, and fences the late holder out', async () => {
        hold = gate();
        const key = routeKey();
        const stuck = post(key); // holds in its handler, as a dead process's claim would
        await new Promise<void>((resolve) => {
          const poll = () => (calls === 1 ? resolve() : setImmediate(poll));
          poll();
        });
        expect((await post(key)).statusCode).toBe(409);
        now += 30_000; // the lock timeout
        const held = hold;
        hold = undefined;
        const retry = await post(key);
        expect(retry.statusCode).toBe(201);
        expect(retry.json()).toEqual({ id: 2, item: 'bolt' });
        held.open();
        // The first request still answers its own client, but cannot overwrite the result.
        expect((await stuck).json()).toEqual({ id: 1, item: 'bolt' });
        const replay = await post(key);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.json()).toEqual({ id: 2, item: 'bolt' });
        expect(calls).toBe(2);
      });

      it('refuses hostile keys with 400 and accepts any printable ASCII up to 255 characters', async () => {
        // (A header sent twice needs a real socket: see idempotency-middleware.test.ts.)
        const bad = ['k'.repeat(256), '', 'a\tb', 'ключ', 'caf\u00e9', 'x\u0000y', '\u{1F511}'];
        for (const key of bad) {
          const res = await app.inject({
            method: 'POST',
            url: '/orders',
            headers: { 'idempotency-key': key },
            payload: { item: 'bolt' },
          });
          expect(res.statusCode, JSON.stringify(key)).toBe(400);
          expect(res.json()).toMatchObject({ code: 'E_IDEMPOTENCY_KEY_INVALID' });
          expect(res.body).not.toContain('kkkkkkkkkk');
        }
        expect(calls).toBe(0);
        const good = [
          'k'.repeat(255),
          "'; DROP TABLE idempotency_keys; --",
          ' spaced key ~!',
          '*',
          '%_\\',
        ];
        for (const key of good) {
          expect((await post(key)).statusCode, key).toBe(201);
          expect((await post(key)).headers['idempotent-replayed'], key).toBe('true');
        }
        expect(calls).toBe(good.length);
      });

      it('ignores safe methods and requests without a key, and requires one when asked', async () => {
        const key = routeKey();
        for (let i = 0; i < 2; i++) {
          const res = await app.inject({
            method: 'GET',
            url: '/orders',
            headers: { 'idempotency-key': key },
          });
          expect(res.headers['idempotent-replayed']).toBeUndefined();
        }
        expect(calls).toBe(2);
        await post(undefined);
        await post(undefined);
        expect(calls).toBe(4);
        app = await setupApp({ required: true });
        const missing = await post(undefined);
        expect(missing.statusCode).toBe(400);
        expect(missing.json()).toMatchObject({ code: 'E_IDEMPOTENCY_KEY_REQUIRED' });
        expect(calls).toBe(0);
        const del = await app.inject({
          method: 'DELETE',
          url: '/orders/1',
          headers: { 'idempotency-key': key },
        });
        expect(del.statusCode).toBe(204);
        const delAgain = await app.inject({
          method: 'DELETE',
          url: '/orders/1',
          headers: { 'idempotency-key': key },
        });
        expect(delAgain.statusCode).toBe(204);
        expect(delAgain.headers['idempotent-replayed']).toBe('true');
        expect(delAgain.payload).toBe('');
      });

      it('scopes keys by client: another address or user with the same key is another request', async () => {
        const key = routeKey();
        await post(key);
        const fromElsewhere = () =>
          app.inject({
            method: 'POST',
            url: '/orders',
            headers: { 'idempotency-key': key },
            payload: { item: 'bolt' },
            remoteAddress: '203.0.113.9',
          });
        expect((await fromElsewhere()).headers['idempotent-replayed']).toBeUndefined();
        expect(calls).toBe(2);
        // scope: 'global' shares anonymous keys across addresses.
        app = await setupApp({ scope: 'global' });
        await post(key);
        expect((await fromElsewhere()).headers['idempotent-replayed']).toBe('true');
        expect(calls).toBe(1);

        const asUser = (id: number, address: string) =>
          app.inject({
            method: 'POST',
            url: '/orders',
            headers: { 'idempotency-key': key, 'x-user': String(id) },
            payload: { item: 'bolt' },
            remoteAddress: address,
          });
        // An auth middleware in front sets ctx.state.user: the user, not the address, scopes.
        const withUser = await createHttpApp();
        withUser.router
          .post('/orders', () => ({ calls: ++calls }))
          .middleware([
            (ctx, next) => {
              ctx.state.user = { id: Number(ctx.header('x-user')) };
              return next();
            },
            idempotency({ store, clock: () => now }),
          ]);
        app = withUser;
        calls = 0;
        await asUser(7, '198.51.100.1');
        expect((await asUser(7, '198.51.100.2')).headers['idempotent-replayed']).toBe('true');
        expect((await asUser(8, '198.51.100.1')).headers['idempotent-replayed']).toBeUndefined();
        expect(calls).toBe(2);
      });

      it('keeps the outcome but not a body over the size limit', async () => {
        app = await setupApp({ maxResponseBytes: 1000 });
        const key = routeKey();
        const put = () =>
          app.inject({ method: 'PUT', url: '/orders/big', headers: { 'idempotency-key': key } });
        const first = await put();
        expect(first.body).toHaveLength(2000);
        const again = await put();
        expect(again.statusCode).toBe(200);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toBe('');
        expect(again.headers['content-type']).toBeUndefined();
        expect(calls).toBe(1);
      });
    });
  });
}
