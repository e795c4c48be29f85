import { describe, expect, it } from 'vitest';
import { E_SESSION_DATA_INVALID } from './errors.js';
import type { Session } from './session.js';
import { isSessionId, sessionHandle } from './session-id.js';
import { type SessionClient, SessionManager } from './session-manager.js';
import { MemorySessionStore } from './stores/memory-store.js';

const lifetime = { idleMs: 120 * 60_000, absoluteMs: 12 * 3_600_000 };
const client: SessionClient = {
  ip: '198.51.100.4',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/120',
};

function setup(touchIntervalMs = 60_000) {
  const clock = { now: 1_800_000_000_000 };
  const sessions = new Map<string, string>();
  const store = new MemorySessionStore({ lifetime, sessions });
  const manager = new SessionManager({ store, lifetime, touchIntervalMs, now: () => clock.now });
  /** One request: start from the cookie, run `handle`, save; returns the cookie now held. */
  const request = async (
    cookie: string | undefined,
    handle: (session: Session) => void = () => {},
    who: SessionClient = client,
  ) => {
    const session = await manager.start(cookie);
    handle(session);
    const plan = await manager.commit(session, who);
    const next = plan.cookie === 'set' ? plan.value : plan.cookie === 'clear' ? undefined : cookie;
    return { session, plan, cookie: next };
  };
  return { clock, sessions, store, manager, request };
}

describe('SessionManager and Session', () => {
  it('starts a fresh session with a 256-bit id and saves nothing until something is stored', async () => {
    const { request, sessions } = setup();
    const first = await request(undefined);
    expect(isSessionId(first.session.id)).toBe(true);
    expect(first.session.isNew).toBe(true);
    expect(first.plan.cookie).toBe('keep');
    expect(sessions.size).toBe(0);
    const second = await request(undefined, (s) => s.put('theme', 'dark'));
    expect(second.plan.cookie).toBe('set');
    expect(second.cookie).toBe(second.session.id);
    expect(sessions.size).toBe(1);
    const third = await request(second.cookie);
    expect(third.session.isNew).toBe(false);
    expect(third.session.get('theme')).toBe('dark');
  });

  it('supports get/put/has/forget/pull/all/flush', async () => {
    const { request } = setup();
    const { cookie } = await request(undefined, (s) => {
      s.put('a', 1).put({ b: { c: [1, 2] }, d: null });
      expect(s.get('a')).toBe(1);
      expect(s.get('missing', 'fallback')).toBe('fallback');
      expect(s.has('a')).toBe(true);
      expect(s.has('d')).toBe(false);
      s.put('e', 'x');
      s.forget('e');
      expect(s.has('e')).toBe(false);
      s.put('gone', undefined);
      expect(s.all()).toEqual({ a: 1, b: { c: [1, 2] }, d: null });
      expect(() => s.put('f', () => 1)).toThrow(E_SESSION_DATA_INVALID);
      expect(() => s.put('g', 1n)).toThrow(E_SESSION_DATA_INVALID);
      expect(() => s.put('', 1)).toThrow(E_SESSION_DATA_INVALID);
      expect(() => s.setUser('x'.repeat(256))).toThrow(E_SESSION_DATA_INVALID);
      expect(() => s.setUser('')).toThrow(E_SESSION_DATA_INVALID);
    });
    const next = await request(cookie, (s) => {
      expect(s.pull('a')).toBe(1);
      expect(s.has('a')).toBe(false);
    });
    const after = await request(next.cookie, (s) => {
      expect(s.all()).toEqual({ b: { c: [1, 2] }, d: null });
      s.flush();
    });
    // Flushed to nothing: the session is deleted and its cookie cleared.
    expect(after.plan.cookie).toBe('clear');
    expect((await request(cookie)).session.isNew).toBe(true);
  });

  it('keeps a "__proto__" key as data, never as a prototype', async () => {
    const { request } = setup();
    const { cookie } = await request(undefined, (s) => s.put('__proto__', { admin: true }));
    const { session } = await request(cookie);
    expect(session.get('__proto__')).toEqual({ admin: true });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.getPrototypeOf(session.all())).toBe(Object.prototype);
  });

  it('flash data lives for exactly the next request; reflash keeps it one more', async () => {
    const { request } = setup();
    let r = await request(undefined, (s) => {
      s.put('keep', 1);
      s.flash('notice', 'Saved');
      expect(s.get('notice')).toBe('Saved');
    });
    r = await request(r.cookie, (s) => expect(s.get('notice')).toBe('Saved'));
    r = await request(r.cookie, (s) => expect(s.has('notice')).toBe(false));
    r = await request(r.cookie, (s) => s.flash('a', 1).flash('b', 2));
    r = await request(r.cookie, (s) => {
      expect(s.get('a')).toBe(1);
      s.reflash('a');
    });
    r = await request(r.cookie, (s) => {
      expect(s.get('a')).toBe(1);
      expect(s.has('b')).toBe(false);
      s.reflash();
    });
    r = await request(r.cookie, (s) => expect(s.get('a')).toBe(1));
    r = await request(r.cookie, (s) => {
      expect(s.has('a')).toBe(false);
      expect(s.get('keep')).toBe(1);
    });
  });

  it('regenerate() gives a new id for the same data and kills the old id', async () => {
    const { request, manager } = setup();
    const first = await request(undefined, (s) => s.put('cart', ['x']));
    const old = first.cookie as string;
    const second = await request(old, (s) => s.regenerate().setUser(7));
    expect(second.cookie).not.toBe(old);
    expect(second.session.id).toBe(second.cookie);
    const resumed = await request(second.cookie);
    expect(resumed.session.get('cart')).toEqual(['x']);
    expect(resumed.session.userId).toBe('7');
    expect(resumed.session.createdAt).toBe(first.session.createdAt);
    // The old id names nothing now: it gets a fresh, empty session with a new id.
    const replay = await manager.start(old);
    expect(replay.isNew).toBe(true);
    expect(replay.id).not.toBe(old);
    expect(replay.all()).toEqual({});
  });

  it('invalidate() clears data and user and kills the old id', async () => {
    const { request, manager, clock } = setup();
    const first = await request(undefined, (s) => s.put('a', 1).setUser('u'));
    clock.now += 1_000;
    const out = await request(first.cookie, (s) => {
      s.invalidate();
      expect(s.userId).toBeNull();
      expect(s.all()).toEqual({});
      s.put('after', true);
    });
    expect(out.cookie).not.toBe(first.cookie);
    expect((await manager.start(first.cookie)).isNew).toBe(true);
    const next = await request(out.cookie);
    expect(next.session.createdAt).toBe(clock.now);
    expect(next.session.all()).toEqual({ after: true });
    // Invalidated with nothing stored after: deleted, cookie cleared.
    const logout = await request(out.cookie, (s) => s.invalidate());
    expect(logout.plan.cookie).toBe('clear');
    expect((await manager.start(out.cookie)).isNew).toBe(true);
  });

  it('never adopts a client-chosen id (fixation)', async () => {
    const { request, sessions } = setup();
    const planted = 'A'.repeat(43);
    const out = await request(planted, (s) => s.put('x', 1));
    expect(out.session.id).not.toBe(planted);
    expect(sessions.has(sessionHandle(planted))).toBe(false);
    // A cookie that named nothing is cleared when the session stays empty.
    expect((await request(planted)).plan.cookie).toBe('clear');
  });

  it('expires after the idle lifetime, by the injected clock', async () => {
    const { request, clock, sessions } = setup();
    const { cookie } = await request(undefined, (s) => s.put('a', 1));
    clock.now += lifetime.idleMs - 1;
    const alive = await request(cookie);
    expect(alive.session.get('a')).toBe(1);
    // That request touched the session: the idle clock restarts from it.
    clock.now += lifetime.idleMs - 1;
    expect((await request(cookie)).session.isNew).toBe(false);
    clock.now += lifetime.idleMs;
    const expired = await request(cookie);
    expect(expired.session.isNew).toBe(true);
    expect(expired.session.all()).toEqual({});
    // The expired session was deleted from the store as it was found.
    expect(sessions.size).toBe(0);
    expect(expired.plan.cookie).toBe('clear');
  });

  it('expires after the absolute lifetime however active, even regenerated', async () => {
    const { request, clock } = setup();
    let { cookie } = await request(undefined, (s) => s.put('a', 1));
    const step = 30 * 60_000;
    for (let t = step; t < lifetime.absoluteMs; t += step) {
      clock.now += step;
      const r = await request(cookie, (s) => {
        expect(s.isNew).toBe(false);
        s.regenerate();
      });
      cookie = r.cookie;
    }
    clock.now += step;
    expect((await request(cookie)).session.isNew).toBe(true);
  });

  it('touches an unchanged session at most once per touch interval', async () => {
    const { request, clock, manager } = setup(60_000);
    const { cookie } = await request(undefined, (s) => s.put('a', 1));
    clock.now += 59_999;
    expect((await request(cookie)).plan.cookie).toBe('keep');
    clock.now += 1;
    const touched = await request(cookie);
    expect(touched.plan.cookie).toBe('set');
    expect((await manager.start(cookie)).lastActivity).toBe(clock.now);
  });

  it('lists a user’s sessions with device, ip and the current flag, and ends them', async () => {
    const { request, manager, clock } = setup();
    const phone = await request(undefined, (s) => s.setUser(42), {
      ip: '192.0.2.1',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1',
    });
    clock.now += 1_000;
    const laptop = await request(undefined, (s) => s.setUser(42));
    const tablet = await request(undefined, (s) => s.setUser(42));
    const other = await request(undefined, (s) => s.setUser(43));
    const listed = await manager.forUser(42, laptop.session.id);
    expect(listed).toHaveLength(3);
    const mine = listed.find((s) => s.current);
    expect(mine?.handle).toBe(sessionHandle(laptop.session.id));
    expect(mine?.device).toBe('Chrome on Windows');
    const iphone = listed.find((s) => s.ip === '192.0.2.1');
    expect(iphone?.device).toBe('Safari on iOS');
    expect(iphone?.lastActivity).toBeInstanceOf(Date);
    expect(listed.every((s) => !s.handle.includes(laptop.session.id))).toBe(true);

    expect(await manager.destroy(iphone?.handle as string)).toBe(true);
    expect((await manager.start(phone.cookie)).isNew).toBe(true);
    expect(await manager.destroyOthers(42, laptop.session.id)).toBe(1);
    expect((await manager.start(tablet.cookie)).isNew).toBe(true);
    expect((await manager.start(laptop.cookie)).isNew).toBe(false);
    expect(await manager.destroyAll(42)).toBe(1);
    expect(await manager.forUser(42)).toEqual([]);
    expect((await manager.start(other.cookie)).isNew).toBe(false);
    // By raw id too.
    expect(await manager.destroy(other.session.id)).toBe(true);
  });

  it('counts active sessions with a 15 s cache, and cleans up expired ones', async () => {
    const { request, manager, clock } = setup();
    await request(undefined, (s) => s.put('a', 1));
    expect(await manager.countActive()).toBe(1);
    await request(undefined, (s) => s.put('b', 1));
    clock.now += 14_999;
    expect(await manager.countActive()).toBe(1);
    clock.now += 1;
    expect(await manager.countActive()).toBe(2);
    clock.now += lifetime.idleMs;
    expect(await manager.cleanup()).toBe(2);
    expect(await manager.countActive()).toBe(0);
  });
});
