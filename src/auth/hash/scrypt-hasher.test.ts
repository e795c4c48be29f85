import { describe, expect, it } from 'vitest';
import { E_PASSWORD_HASH_INVALID, E_PASSWORD_TOO_LONG } from '../errors.js';
import { ScryptHasher } from './scrypt-hasher.js';

// Low cost keeps the suite light; the default (ln = 17) is checked once below.
const hasher = new ScryptHasher({ ln: 10, r: 8, p: 1 });

describe('ScryptHasher', () => {
  it('makes a PHC string that verifies the password and nothing else', async () => {
    const hash = await hasher.make('correct horse battery staple');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{86}$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'correct horse battery stapl')).toBe(false);
    expect(await hasher.verify(hash, '')).toBe(false);
    // A fresh salt each time.
    expect(await hasher.make('correct horse battery staple')).not.toBe(hash);
  });

  it('treats canonically equal Unicode passwords alike', async () => {
    const hash = await hasher.make('caf\u00e9');
    expect(await hasher.verify(hash, 'cafe\u0301')).toBe(true);
  });

  it('hashes with the default parameters (ln=17, r=8, p=1: 128 MiB, above the default maxmem)', async () => {
    const strong = new ScryptHasher();
    const hash = await strong.make('s3cret');
    expect(hash.startsWith('$scrypt$ln=17,r=8,p=1$')).toBe(true);
    expect(await strong.verify(hash, 's3cret')).toBe(true);
  });

  it('asks for a rehash when the parameters change, and the old hash still verifies', async () => {
    const old = await hasher.make('pw');
    expect(hasher.needsRehash(old)).toBe(false);
    const raised = new ScryptHasher({ ln: 11, r: 8, p: 1 });
    expect(raised.needsRehash(old)).toBe(true);
    expect(await raised.verify(old, 'pw')).toBe(true);
    expect(new ScryptHasher({ ln: 10, r: 4, p: 1 }).needsRehash(old)).toBe(true);
    expect(new ScryptHasher({ ln: 10, r: 8, p: 2 }).needsRehash(old)).toBe(true);
    expect(new ScryptHasher({ ln: 10, keyLength: 32 }).needsRehash(old)).toBe(true);
    expect(hasher.needsRehash('$2b$10$bcryptlooking')).toBe(true);
    expect(hasher.needsRehash(await raised.make('pw'))).toBe(true);
  });

  it('refuses passwords over the byte limit before hashing, counting UTF-8 bytes', async () => {
    const hash = await hasher.make('pw');
    await expect(hasher.make('a'.repeat(4097))).rejects.toThrow(E_PASSWORD_TOO_LONG);
    await expect(hasher.verify(hash, 'a'.repeat(1_000_000))).rejects.toThrow(E_PASSWORD_TOO_LONG);
    // 1,366 three-byte characters: under 4096 code units, over 4096 bytes.
    await expect(hasher.make('\u20ac'.repeat(1366))).rejects.toThrow(/4098 bytes/);
    expect(await hasher.make('a'.repeat(4096))).toMatch(/^\$scrypt\$/);
    const small = new ScryptHasher({ ln: 10, maxPasswordBytes: 64 });
    await expect(small.make('a'.repeat(65))).rejects.toMatchObject({
      code: 'E_PASSWORD_TOO_LONG',
      status: 422,
    });
  });

  it('refuses stored values that are not scrypt PHC strings, or ask for absurd work', async () => {
    const hash = await hasher.make('pw');
    for (const bad of [
      '',
      'plain',
      '$2b$10$abcdefghijklmnopqrstuv',
      hash.replace('ln=10', 'ln=60'),
      hash.replace('ln=10', 'ln=25'),
      hash.replace('r=8', 'r=99'),
      `${hash}$extra`,
      hash.replace(/\$[^$]+$/, '$short'),
    ])
      await expect(hasher.verify(bad, 'pw'), bad).rejects.toThrow(E_PASSWORD_HASH_INVALID);
    expect(hasher.isHash(hash)).toBe(true);
    expect(hasher.isHash('nope')).toBe(false);
  });

  it('detects a tampered hash or salt', async () => {
    const hash = await hasher.make('pw');
    const parts = hash.split('$');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const badHash = [...parts.slice(0, 4), flip(parts[4]!)].join('$');
    const badSalt = [...parts.slice(0, 3), flip(parts[3]!), parts[4]].join('$');
    expect(await hasher.verify(badHash, 'pw')).toBe(false);
    expect(await hasher.verify(badSalt, 'pw')).toBe(false);
  });
});
