import { describe, expect, it } from 'vitest';
import type { HttpContext } from '../../http/index.js';
import { generateSessionId, Session } from '../../session/index.js';
import { resolveCsrfConfig } from './csrf-config.js';
import { CsrfGuard } from './csrf-guard.js';

function session(): Session {
  const now = Date.now();
  return new Session({
    id: generateSessionId(),
    fresh: true,
    record: {
      data: {},
      flash: { new: [], old: [] },
      userId: null,
      createdAt: now,
      lastActivity: now,
      ip: null,
      userAgent: null,
    },
  } as never);
}

const post = (token: string) =>
  ({
    method: 'POST',
    path: '/orders',
    header: (name: string) => (name === 'x-csrf-token' ? token : undefined),
  }) as unknown as HttpContext;

describe('CsrfGuard', () => {
  it('keeps a token for its lifetime, then refuses it and issues a new one', async () => {
    let clock = 1_000_000;
    const guard = new CsrfGuard(
      resolveCsrfConfig({ lifetime: '10m', checkOrigin: false }),
      () => clock,
    );
    const s = session();
    const token = guard.token(s);
    expect(guard.token(s)).toBe(token);
    clock += 9 * 60_000;
    await expect(guard.verify(post(token), s)).resolves.toBeUndefined();
    clock += 2 * 60_000;
    await expect(guard.verify(post(token), s)).rejects.toMatchObject({
      code: 'E_CSRF_TOKEN_MISMATCH',
      message: expect.stringContaining('expired'),
    });
    expect(guard.current(s)).toBeUndefined();
    const renewed = guard.token(s);
    expect(renewed).not.toBe(token);
    await expect(guard.verify(post(renewed), s)).resolves.toBeUndefined();
  });

  it('ignores a tampered session value instead of trusting it', async () => {
    const guard = new CsrfGuard(resolveCsrfConfig({ checkOrigin: false }));
    const s = session();
    s.put('_csrf', { token: 'A'.repeat(43) });
    await expect(guard.verify(post('A'.repeat(43)), s)).rejects.toMatchObject({
      code: 'E_CSRF_TOKEN_MISMATCH',
    });
    expect(guard.token(s)).not.toBe('A'.repeat(43));
  });
});
