import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSessionId, sessionHandle } from './session-id.js';
import type { SessionLifetime, SessionRecord } from './session-record.js';
import { isServerStore, type SessionStore } from './store.js';

/** The lifetime every contract store is built with. */
export const CONTRACT_LIFETIME: SessionLifetime = {
  idleMs: 60 * 60_000,
  absoluteMs: 8 * 3_600_000,
};

export interface ContractStore {
  store: SessionStore;
  /** Everything the store persisted, as text (file names and contents, rows, keys and values). */
  dump?: () => Promise<string>;
  cleanup?: () => Promise<void>;
}

/**
 * The one suite every session store passes. Times are fixed relative to `Date.now()` at
 * the start of each test (no sleeping): expiry is decided by the records' own times.
 *
 * @example
 * ```ts
 * runSessionStoreContract('file', { serverSide: true }, async (lifetime) => ({ store: ..., dump }));
 * ```
 */
export function runSessionStoreContract(
  name: string,
  options: { serverSide: boolean },
  create: (lifetime: SessionLifetime) => Promise<ContractStore>,
): void {
  describe(`session store contract: ${name}`, () => {
    let current: ContractStore | undefined;
    let now = 0;
    beforeEach(async () => {
      now = Date.now();
      current = await create(CONTRACT_LIFETIME);
    });
    afterEach(async () => {
      await current?.cleanup?.();
      current = undefined;
    });
    const store = (): SessionStore => {
      if (!current) throw new Error('the store is created in beforeEach');
      return current.store;
    };
    const record = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      data: { cart: ['sku-1', 'sku-2'], name: 'Zoë ✓', nested: { a: [1, null, true] } },
      flash: { new: [], old: ['notice'] },
      userId: null,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
      createdAt: now - 1_000,
      lastActivity: now,
      ...overrides,
    });
    /** Write a session and return its id. */
    const save = async (r: SessionRecord, id = generateSessionId()): Promise<string> => {
      await store().write(id, r);
      return id;
    };

    it('reads back what it wrote, through the cookie value', async () => {
      const id = generateSessionId();
      const r = record({ data: { ...record().data, ['__proto__']: 'kept as a key' } });
      await store().write(id, r);
      const read = await store().read(store().cookieValue(id, r));
      expect(read?.id).toBe(id);
      expect(read?.record).toEqual(r);
      expect(Object.getPrototypeOf(read?.record.data)).toBe(Object.prototype);
    });

    it('replaces a session on a second write', async () => {
      const id = await save(record());
      const next = record({ data: { step: 2 }, userId: '42', lastActivity: now + 5 });
      await store().write(id, next);
      expect((await store().read(store().cookieValue(id, next)))?.record).toEqual(next);
    });

    it('reads unknown, malformed and hostile cookie values as no session', async () => {
      await save(record());
      const hostile = [
        generateSessionId(),
        '',
        'x',
        'not-an-id',
        `${generateSessionId()}x`,
        '../../etc/passwd',
        '%00%00',
        'ü'.repeat(43),
        'A'.repeat(100_000),
        sessionHandle(generateSessionId()),
      ];
      for (const value of hostile) expect(await store().read(value)).toBeUndefined();
    });

    // Client-side stores (the cookie) keep nothing on the server: nothing to revoke or list.
    if (!options.serverSide) {
      it('is not a server-side store', () => expect(isServerStore(store())).toBe(false));
      return;
    }

    it('never stores the raw session id', async () => {
      const dump = current?.dump;
      if (!dump) throw new Error(`${name}: a server-side store's contract needs dump()`);
      const id = await save(record({ userId: '7' }));
      const text = await dump();
      expect(text).toContain(sessionHandle(id));
      expect(text).not.toContain(id);
    });

    it('forgets a destroyed session, and keeps the others', async () => {
      const gone = await save(record());
      const kept = await save(record());
      await store().destroy(gone);
      expect(await store().read(gone)).toBeUndefined();
      expect(await store().read(kept)).toBeDefined();
      await store().destroy(generateSessionId());
    });

    it('lists a user’s live sessions by handle, not other users’ nor expired ones', async () => {
      const s = serverStore(store());
      const a1 = await save(record({ userId: 'alice', lastActivity: now - 10 }));
      const a2 = await save(record({ userId: 'alice', userAgent: null, ip: null }));
      await save(record({ userId: 'alice', lastActivity: now - CONTRACT_LIFETIME.idleMs }));
      await save(
        record({
          userId: 'alice',
          createdAt: now - CONTRACT_LIFETIME.absoluteMs,
          lastActivity: now,
        }),
      );
      await save(record({ userId: 'bob' }));
      await save(record({ userId: null }));
      const listed = await s.forUser('alice', now);
      expect(listed.map((x) => x.handle).sort()).toEqual(
        [sessionHandle(a1), sessionHandle(a2)].sort(),
      );
      expect(listed.find((x) => x.handle === sessionHandle(a2))?.record.userAgent).toBeNull();
      expect(await s.forUser('nobody', now)).toEqual([]);
    });

    it('ends one session by handle', async () => {
      const s = serverStore(store());
      const id = await save(record({ userId: 'carol' }));
      expect(await s.destroyHandle(sessionHandle(id))).toBe(true);
      expect(await s.destroyHandle(sessionHandle(id))).toBe(false);
      expect(await s.destroyHandle('../../not-a-handle')).toBe(false);
      expect(await store().read(id)).toBeUndefined();
      expect(await s.forUser('carol', now)).toEqual([]);
    });

    it('ends a user’s sessions except those kept, and no one else’s', async () => {
      const s = serverStore(store());
      const current = await save(record({ userId: 'dave' }));
      const other1 = await save(record({ userId: 'dave' }));
      const other2 = await save(record({ userId: 'dave' }));
      const erin = await save(record({ userId: 'erin' }));
      // A session that moved from dave to frank (setUser) is frank's now.
      const moved = await save(record({ userId: 'dave' }));
      await store().write(moved, record({ userId: 'frank' }));
      expect(await s.destroyUser('dave', [sessionHandle(current)])).toBe(2);
      expect(await store().read(current)).toBeDefined();
      expect(await store().read(other1)).toBeUndefined();
      expect(await store().read(other2)).toBeUndefined();
      expect(await store().read(erin)).toBeDefined();
      expect(await store().read(moved)).toBeDefined();
      expect(await s.destroyUser('dave')).toBe(1);
      expect(await store().read(current)).toBeUndefined();
      expect(await s.destroyUser('dave')).toBe(0);
    });

    it('counts live sessions, and garbage-collects expired ones', async () => {
      const s = serverStore(store());
      const live = await save(record({ userId: 'gail' }));
      await save(record());
      await save(record({ lastActivity: now - CONTRACT_LIFETIME.idleMs - 1 }));
      await save(record({ createdAt: now - CONTRACT_LIFETIME.absoluteMs, lastActivity: now - 5 }));
      expect(await s.countActive(now)).toBe(2);
      expect(await s.gc(now)).toBe(2);
      expect(await s.gc(now)).toBe(0);
      expect(await s.countActive(now)).toBe(2);
      expect(await store().read(live)).toBeDefined();
      // Everything expires eventually.
      expect(await s.countActive(now + CONTRACT_LIFETIME.absoluteMs)).toBe(0);
    });
  });
}

function serverStore(store: SessionStore) {
  if (!isServerStore(store)) throw new Error(`${store.driver} is not a server-side store`);
  return store;
}
