import { describe, expect, it } from 'vitest';
import { parseCookies } from './cookie-parser.js';

describe('parseCookies', () => {
  it('returns an empty null-prototype map without a header', () => {
    for (const header of [undefined, '']) {
      const cookies = parseCookies(header);
      expect(Object.getPrototypeOf(cookies)).toBeNull();
      expect(Object.keys(cookies)).toEqual([]);
    }
  });

  it('parses name=value pairs and trims whitespace', () => {
    expect({ ...parseCookies('session=abc123; theme = dark ;lang=en') }).toEqual({
      session: 'abc123',
      theme: 'dark',
      lang: 'en',
    });
  });

  it('percent-decodes values and keeps "=" inside them', () => {
    expect({ ...parseCookies('name=Ada%20Lovelace; token=a=b==') }).toEqual({
      name: 'Ada Lovelace',
      token: 'a=b==',
    });
  });

  it('keeps badly encoded values as sent instead of throwing', () => {
    expect({ ...parseCookies('a=%E0%A4%A; b=%ZZ; c=ok') }).toEqual({
      a: '%E0%A4%A',
      b: '%ZZ',
      c: 'ok',
    });
  });

  it('skips pairs without a name or "=" and takes the first of repeated names', () => {
    expect({ ...parseCookies('=orphan; flag; id=first; id=second') }).toEqual({ id: 'first' });
  });

  it('drops prototype-poisoning names', () => {
    const cookies = parseCookies('__proto__=x; constructor=y; prototype=z; ok=1');
    expect(Object.keys(cookies)).toEqual(['ok']);
    expect(Object.getPrototypeOf(cookies)).toBeNull();
  });

  it('never throws on garbage', () => {
    for (const header of [';;;', '=', '; ; =;', '\u0000=\u0001', 'a="unterminated', '%%%=%%%']) {
      expect(() => parseCookies(header)).not.toThrow();
    }
  });
});
