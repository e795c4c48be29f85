import { describe, expect, it } from 'vitest';
import { generateAppKey, parseAppKey } from '../../kernel/index.js';
import { E_SIGNATURE_INVALID } from './errors.js';
import { Signer } from './signer.js';

const keyA = parseAppKey(generateAppKey());
const keyB = parseAppKey(generateAppKey());

function reason(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(E_SIGNATURE_INVALID.is(error)).toBe(true);
    return (error as InstanceType<typeof E_SIGNATURE_INVALID>).details?.reason;
  }
  throw new Error('expected E_SIGNATURE_INVALID');
}

describe('Signer', () => {
  const signer = new Signer({ keys: { current: keyA, previous: [] } });

  it('round-trips values in a readable, versioned format', () => {
    for (const value of ['a', 1, null, [true], { email: 'a@b.c' }])
      expect(signer.unsign(signer.sign(value))).toEqual(value);
    const signed = signer.sign({ email: 'a@b.c' });
    expect(signed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const payload = signed.split('.')[1] as string;
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({
      v: { email: 'a@b.c' },
    });
  });

  it('rejects a change to any character of the payload or the signature', () => {
    const signed = signer.sign({ id: 7, role: 'user' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < signed.length; i++) {
      const char = signed[i] as string;
      const replacement = char === '.' ? '_' : (alphabet[(alphabet.indexOf(char) + 1) % 64] ?? 'A');
      const forged = signed.slice(0, i) + replacement + signed.slice(i + 1);
      expect(signer.tryUnsign(forged), `position ${i}`).toBeUndefined();
    }
  });

  it('rejects a payload re-signed by an attacker without the key', async () => {
    const { createHmac } = await import('node:crypto');
    const payload = Buffer.from(JSON.stringify({ v: { role: 'admin' } })).toString('base64url');
    const mac = createHmac('sha256', keyA).update(payload).digest('base64url');
    expect(reason(() => signer.unsign(`v1.${payload}.${mac}`))).toBe('authentication');
  });

  it('rejects truncation, garbage and huge input', () => {
    const signed = signer.sign('value');
    for (let cut = 0; cut < signed.length; cut++)
      expect(signer.tryUnsign(signed.slice(0, cut))).toBeUndefined();
    for (const input of ['', 'v1..', 'v1.e30.', '....', 'v9.e30.x', null, 3, {}]) {
      expect(signer.tryUnsign(input as string)).toBeUndefined();
      expect(() => signer.unsign(input as string)).toThrow(E_SIGNATURE_INVALID);
    }
    // A valid MAC over a payload that is not our envelope.
    const huge = `v1.${'A'.repeat(10 * 1024 * 1024)}.${'A'.repeat(43)}`;
    expect(signer.tryUnsign(huge)).toBeUndefined();
    const big = 'y'.repeat(4 * 1024 * 1024);
    expect(signer.unsign(signer.sign(big))).toBe(big);
  });

  it('binds the purpose and the expiry', () => {
    let now = 0;
    const clocked = new Signer({ keys: { current: keyA, previous: [] }, now: () => now });
    const signed = clocked.sign('x', { purpose: 'unsubscribe', expiresIn: '1h' });
    expect(clocked.unsign(signed, { purpose: 'unsubscribe' })).toBe('x');
    expect(reason(() => clocked.unsign(signed, { purpose: 'login' }))).toBe('authentication');
    expect(reason(() => clocked.unsign(signed))).toBe('authentication');
    now = 3_600_000;
    expect(reason(() => clocked.unsign(signed, { purpose: 'unsubscribe' }))).toBe('expired');
  });

  it('does not verify with another key, and verifies previous keys during rotation', () => {
    const old = signer.sign('old');
    expect(reason(() => new Signer({ keys: { current: keyB, previous: [] } }).unsign(old))).toBe(
      'authentication',
    );
    const rotated = new Signer({ keys: { current: keyB, previous: [keyA] } });
    expect(rotated.unsign(old)).toBe('old');
    expect(signer.tryUnsign(rotated.sign('new'))).toBeUndefined();
  });
});
