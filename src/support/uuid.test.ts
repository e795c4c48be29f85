import { describe, expect, it } from 'vitest';
import { uuid } from './uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid', () => {
  it('makes version 4, RFC 9562 variant UUIDs in lower case', () => {
    for (let i = 0; i < 1000; i++) expect(uuid()).toMatch(V4);
  });

  it('never repeats across many refills of its random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(uuid());
    expect(seen.size).toBe(20_000);
  });

  it('uses every hex digit in every free position', () => {
    // 4,000 ids: a position stuck on a few digits (a bad table, a shifted byte) shows here.
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) {
      const id = uuid();
      for (let p = 0; p < 36; p++) digits[p]!.add(id[p]!);
    }
    for (let p = 0; p < 36; p++) {
      if ([8, 13, 18, 23].includes(p)) expect([...digits[p]!]).toEqual(['-']);
      else if (p === 14) expect([...digits[p]!]).toEqual(['4']);
      else if (p === 19) expect(digits[p]!.size).toBe(4);
      else expect(digits[p]!.size).toBe(16);
    }
  });
});
