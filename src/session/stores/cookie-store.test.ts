import { describe, expect, it } from 'vitest';
import { generateAppKey, parseAppKey } from '../../kernel/index.js';
import { Encrypter } from '../../security/encryption/index.js';
import { E_SESSION_COOKIE_TOO_LARGE, E_SESSION_STORE_UNSUPPORTED } from '../errors.js';
import { generateSessionId } from '../session-id.js';
import { SessionManager } from '../session-manager.js';
import type { SessionRecord } from '../session-record.js';
import { CONTRACT_LIFETIME, runSessionStoreContract } from '../session-store.contract.js';
import { CookieSessionStore } from './cookie-store.js';

const key = parseAppKey(generateAppKey());
const encrypter = new Encrypter({ keys: { current: key, previous: [] } });

runSessionStoreContract('cookie', { serverSide: false }, async (lifetime) => ({
  store: new CookieSessionStore({ lifetime, encrypter }),
}));

const record = (data: Record<string, unknown> = { role: 'user' }): SessionRecord => ({
  data,
  flash: { new: [], old: [] },
  userId: '5',
  ip: null,
  userAgent: null,
  createdAt: 1,
  lastActivity: 2,
});

describe('cookie session store', () => {
  const store = new CookieSessionStore({ lifetime: CONTRACT_LIFETIME, encrypter });

  it('keeps the session encrypted in the cookie, nothing readable', async () => {
    const id = generateSessionId();
    const value = store.cookieValue(id, record({ secret: 'hunter2' }));
    expect(value).not.toContain('hunter2');
    expect(value).not.toContain(id);
    expect((await store.read(value))?.record.data).toEqual({ secret: 'hunter2' });
  });

  it('rejects a tampered payload at every position', async () => {
    const value = store.cookieValue(generateSessionId(), record({ role: 'user' }));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < value.length; i++) {
      const char = value[i] as string;
      if (char === '.') continue;
      const swapped = alphabet[(alphabet.indexOf(char) + 7) % 64] as string;
      const forged = value.slice(0, i) + swapped + value.slice(i + 1);
      expect(await store.read(forged), `position ${i}`).toBeUndefined();
    }
  });

  it('rejects hostile values: oversized, non-base64, another key, another purpose', async () => {
    const other = new Encrypter({ keys: { current: parseAppKey(generateAppKey()), previous: [] } });
    const foreign = new CookieSessionStore({ lifetime: CONTRACT_LIFETIME, encrypter: other });
    const id = generateSessionId();
    const hostile = [
      'A'.repeat(1_000_000),
      `${store.cookieValue(id, record())}${'A'.repeat(5000)}`,
      'v1.!!!!.????.####',
      'v1.%%%%.%%%%.%%%%',
      foreign.cookieValue(id, record()),
      // Encrypted by the right key for another purpose: not a session.
      encrypter.encrypt({ i: id, r: record() }),
      // The right key and purpose, but not a session inside.
      encrypter.encrypt({ i: 'chosen-by-client', r: record() }, { purpose: 'keel:session' }),
      encrypter.encrypt({ i: id, r: { data: 'x' } }, { purpose: 'keel:session' }),
      encrypter.encrypt(['x'], { purpose: 'keel:session' }),
    ];
    for (const value of hostile) expect(await store.read(value)).toBeUndefined();
  });

  it('refuses to write a session too large for a cookie, with a clear error', () => {
    const small = new CookieSessionStore({ lifetime: CONTRACT_LIFETIME, encrypter, maxBytes: 512 });
    expect(() => small.cookieValue(generateSessionId(), record({ blob: 'x'.repeat(600) }))).toThrow(
      E_SESSION_COOKIE_TOO_LARGE,
    );
    expect(small.cookieValue(generateSessionId(), record({ blob: 'x' }))).toBeTypeOf('string');
  });

  it('reads cookies made with a previous APP_KEY during rotation', async () => {
    const rotated = new CookieSessionStore({
      lifetime: CONTRACT_LIFETIME,
      encrypter: new Encrypter({
        keys: { current: parseAppKey(generateAppKey()), previous: [key] },
      }),
    });
    const id = generateSessionId();
    expect((await rotated.read(store.cookieValue(id, record())))?.id).toBe(id);
  });

  it('says plainly that it cannot list or end sessions from the server', async () => {
    const manager = new SessionManager({ store, lifetime: CONTRACT_LIFETIME });
    await expect(manager.forUser('5')).rejects.toThrow(E_SESSION_STORE_UNSUPPORTED);
    await expect(manager.destroyAll('5')).rejects.toThrow(E_SESSION_STORE_UNSUPPORTED);
    await expect(manager.destroy(generateSessionId())).rejects.toThrow(E_SESSION_STORE_UNSUPPORTED);
    expect(await manager.countActive()).toBeUndefined();
    expect(await manager.cleanup()).toBe(0);
  });
});
