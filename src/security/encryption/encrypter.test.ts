import { describe, expect, it } from 'vitest';
import { generateAppKey, parseAppKey } from '../../kernel/index.js';
import { Encrypter } from './encrypter.js';
import { E_DECRYPTION_FAILED, E_ENCRYPTION_PAYLOAD_INVALID } from './errors.js';
import type { AppKeys } from './key-ring.js';

const keyA = parseAppKey(generateAppKey());
const keyB = parseAppKey(generateAppKey());
const keys = (current: Buffer, ...previous: Buffer[]): AppKeys => ({ current, previous });

function reason(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(E_DECRYPTION_FAILED.is(error)).toBe(true);
    return (error as InstanceType<typeof E_DECRYPTION_FAILED>).details?.reason;
  }
  throw new Error('expected E_DECRYPTION_FAILED');
}

/** Flip one bit of the byte at `index` of a base64url part, keeping it canonical. */
function flipByte(part: string, index: number): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('Encrypter', () => {
  const encrypter = new Encrypter({ keys: keys(keyA) });

  it('round-trips JSON values of every shape', () => {
    for (const value of ['text', '', 0, 42.5, true, false, null, [1, 'two'], { a: { b: [null] } }])
      expect(encrypter.decrypt(encrypter.encrypt(value))).toEqual(value);
    expect(encrypter.decrypt(encrypter.encrypt('ünïcødé ✓ 🔑'))).toBe('ünïcødé ✓ 🔑');
  });

  it('produces a versioned base64url format with a fresh IV each time', () => {
    const one = encrypter.encrypt('same');
    const two = encrypter.encrypt('same');
    expect(one).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('same');
  });

  it('rejects a non-JSON value at encrypt time', () => {
    expect(() => encrypter.encrypt(undefined)).toThrow(E_ENCRYPTION_PAYLOAD_INVALID);
    expect(() => encrypter.encrypt(() => 1)).toThrow(E_ENCRYPTION_PAYLOAD_INVALID);
    expect(() => encrypter.encrypt(10n)).toThrow(E_ENCRYPTION_PAYLOAD_INVALID);
    expect(() => encrypter.encrypt('x', { expiresIn: 'soon' })).toThrow(
      E_ENCRYPTION_PAYLOAD_INVALID,
    );
  });

  it('rejects a flipped bit in every byte of the IV, ciphertext and tag', () => {
    const token = encrypter.encrypt({ role: 'admin', id: 1 });
    const [version, iv, body, tag] = token.split('.') as [string, string, string, string];
    const parts = [iv, body, tag];
    for (const [p, part] of parts.entries()) {
      const length = Buffer.from(part, 'base64url').length;
      for (let i = 0; i < length; i++) {
        const changed = [...parts];
        changed[p] = flipByte(part, i);
        const forged = [version, ...changed].join('.');
        expect(encrypter.tryDecrypt(forged), `part ${p} byte ${i}`).toBeUndefined();
        expect(reason(() => encrypter.decrypt(forged))).toBe('authentication');
      }
    }
  });

  it('rejects truncated values, swapped parts and non-canonical base64url', () => {
    const token = encrypter.encrypt('secret');
    for (let cut = 1; cut < token.length; cut++)
      expect(encrypter.tryDecrypt(token.slice(0, cut)), `cut at ${cut}`).toBeUndefined();
    const [version, iv, body, tag] = token.split('.') as [string, string, string, string];
    // A shortened tag (GCM would accept 4..16 bytes) is refused outright.
    const shortTag = Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url');
    expect(reason(() => encrypter.decrypt(`${version}.${iv}.${body}.${shortTag}`))).toBe(
      'malformed',
    );
    // The last character of the 16-byte tag carries 4 unused bits: a variant decodes to
    // the same bytes in Node, and must still be refused.
    const last = tag.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const variant = `${version}.${iv}.${body}.${tag.slice(0, -1)}${sibling}`;
    expect(Buffer.from(`${tag.slice(0, -1)}${sibling}`, 'base64url')).toEqual(
      Buffer.from(tag, 'base64url'),
    );
    expect(encrypter.tryDecrypt(variant)).toBeUndefined();
    expect(encrypter.tryDecrypt(`${version}.${iv}.${tag}.${body}`)).toBeUndefined();
    expect(encrypter.tryDecrypt(`${token}.extra`)).toBeUndefined();
  });

  it('rejects garbage with a clear reason, and never throws anything else', () => {
    const garbage: unknown[] = [
      '',
      '.',
      '...',
      'v1...',
      'not a token',
      'v1.@@@.###.$$$',
      'v2.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'V1.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'v1.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'v1.AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA',
      'v1.AAAA+AAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'v1.AAAAAAAAAAAAAAAA=.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      '\u0000\u0001v1',
      undefined,
      null,
      42,
      {},
    ];
    for (const input of garbage) {
      expect(encrypter.tryDecrypt(input as string)).toBeUndefined();
      expect(() => encrypter.decrypt(input as string)).toThrow(E_DECRYPTION_FAILED);
    }
    expect(reason(() => encrypter.decrypt('v2.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA'))).toBe(
      'unsupported-version',
    );
    expect(reason(() => encrypter.decrypt('v1.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA'))).toBe(
      'authentication',
    );
    expect(reason(() => encrypter.decrypt('nonsense'))).toBe('malformed');
  });

  it('handles huge input: a multi-megabyte value round-trips, huge garbage is refused', () => {
    const big = 'x'.repeat(8 * 1024 * 1024);
    expect(encrypter.decrypt(encrypter.encrypt(big))).toBe(big);
    const hugeGarbage = `v1.${'A'.repeat(16)}.${'B'.repeat(10 * 1024 * 1024)}.${'C'.repeat(22)}`;
    expect(encrypter.tryDecrypt(hugeGarbage)).toBeUndefined();
    expect(encrypter.tryDecrypt('.'.repeat(5 * 1024 * 1024))).toBeUndefined();
  });

  it('does not decrypt with another key', () => {
    const other = new Encrypter({ keys: keys(keyB) });
    const token = encrypter.encrypt('secret');
    expect(reason(() => other.decrypt(token))).toBe('authentication');
  });

  it('binds the purpose: wrong, missing or extra purpose is rejected', () => {
    const token = encrypter.encrypt('reset', { purpose: 'password-reset' });
    expect(encrypter.decrypt(token, { purpose: 'password-reset' })).toBe('reset');
    expect(reason(() => encrypter.decrypt(token, { purpose: 'email-verify' }))).toBe(
      'authentication',
    );
    expect(encrypter.tryDecrypt(token)).toBeUndefined();
    expect(encrypter.tryDecrypt(encrypter.encrypt('plain'), { purpose: 'x' })).toBeUndefined();
  });

  it('expires values by the injected clock', () => {
    let now = 1_700_000_000_000;
    const clocked = new Encrypter({ keys: keys(keyA), now: () => now });
    const token = clocked.encrypt('soon', { expiresIn: '15m' });
    now += 15 * 60_000 - 1;
    expect(clocked.decrypt(token)).toBe('soon');
    now += 1;
    expect(reason(() => clocked.decrypt(token))).toBe('expired');
    expect(clocked.tryDecrypt(token)).toBeUndefined();
    expect(clocked.decrypt(clocked.encrypt('ms', { expiresIn: 1000 }))).toBe('ms');
  });

  it('rotates keys: old values decrypt with the previous key, new ones use the current key', () => {
    const before = new Encrypter({ keys: keys(keyA) });
    const oldToken = before.encrypt({ n: 1 }, { purpose: 'p' });
    const rotated = new Encrypter({ keys: keys(keyB, keyA) });
    expect(rotated.decrypt(oldToken, { purpose: 'p' })).toEqual({ n: 1 });
    const newToken = rotated.encrypt({ n: 2 });
    // Made with the current key B only: an app that only knows A cannot read it.
    expect(before.tryDecrypt(newToken)).toBeUndefined();
    expect(new Encrypter({ keys: keys(keyB) }).decrypt(newToken)).toEqual({ n: 2 });
    // Once A is dropped from the previous keys, its values stop decrypting.
    expect(new Encrypter({ keys: keys(keyB) }).tryDecrypt(oldToken)).toBeUndefined();
  });

  it('shares no key with the signer or the raw APP_KEY (distinct derived keys)', async () => {
    const { deriveKey } = await import('./key-ring.js');
    const enc = deriveKey(keyA, 'encryption');
    const sig = deriveKey(keyA, 'signing');
    expect(enc.length).toBe(32);
    expect(enc.equals(sig)).toBe(false);
    expect(enc.equals(keyA)).toBe(false);
  });
});
