import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cachingStatements } from './dialects.js';

describe('cachingStatements (SQLite)', () => {
  it('hands out the cached statement, a fresh one while it is busy, and evicts the oldest', () => {
    const raw = new Database(':memory:');
    const db = cachingStatements(raw);
    raw.exec('create table t (n integer); insert into t values (1), (2), (3);');
    const sql = 'select n from t order by n';
    const first = db.prepare(sql);
    expect(db.prepare(sql)).toBe(first);
    const iterator = first.iterate() as IterableIterator<{ n: number }>;
    expect(iterator.next().value).toEqual({ n: 1 });
    // Busy iterating: reusing it would throw, so a fresh statement is prepared.
    const second = db.prepare(sql);
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    iterator.return?.();
    expect(db.prepare(sql)).toBe(first);
    // Past 256 statements the least recently used one is dropped.
    for (let i = 0; i < 256; i++) db.prepare(`select ${i} as n`);
    expect(db.prepare(sql)).not.toBe(first);
    db.close();
    expect(raw.open).toBe(false);
  });
});
