import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect, useEmptyDatabase } from '../../../test/support/databases.js';
import { E_AUTH_USER_ID_INVALID, E_TOKEN_INVALID_OPTIONS } from '../errors.js';
import { API_TOKENS_TABLE, createApiTokensTable } from '../migrations/create-api-tokens-table.js';
import { ApiTokens, digestsEqual, tokenCan } from './api-tokens.js';

describeEachDialect('api tokens', (database) => {
  const connection = useEmptyDatabase(database);
  const clock = { now: 1_800_000_000_000 };
  let tokens: ApiTokens;
  const errors: unknown[] = [];

  beforeEach(async () => {
    await createApiTokensTable.up(connection().kysely);
    clock.now = 1_800_000_000_000;
    errors.length = 0;
    tokens = new ApiTokens({
      connection,
      prefix: 'erp',
      lastUsedThrottleMs: 60_000,
      now: () => clock.now,
      onError: (error) => errors.push(error),
    });
  });

  it('creates a token shown once and stores only the SHA-256 of its secret', async () => {
    const { token, record } = await tokens.create({ id: 7 }, 'ci');
    expect(token).toMatch(/^erp_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ userId: '7', name: 'ci', abilities: ['*'], expiresAt: null });
    const secret = token.slice(token.indexOf('.') + 1);
    const rows = await connection().kysely.selectFrom(API_TOKENS_TABLE).selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows, (_k, v) =>
      v?.type === 'Buffer' ? Buffer.from(v.data).toString() : v,
    );
    expect(stored).not.toContain(secret);
    expect(stored).toContain(createHash('sha256').update(secret).digest('hex'));
    expect((await tokens.verify(token))?.id).toBe(record.id);
  });

  it('lists, revokes one, revokes all', async () => {
    const a = await tokens.create(1, 'a');
    clock.now += 1000;
    const b = await tokens.create(1, 'b');
    await tokens.create('2', 'other user');
    expect((await tokens.list(1)).map((t) => t.name)).toEqual(['b', 'a']);
    expect(await tokens.revoke(a.record.id)).toBe(true);
    expect(await tokens.revoke(a.record.id)).toBe(false);
    expect(await tokens.verify(a.token)).toBeUndefined();
    expect(await tokens.verify(b.token)).toBeDefined();
    // By its plain value too.
    expect(await tokens.revoke(b.token)).toBe(true);
    expect(await tokens.list(1)).toEqual([]);
    expect(await tokens.revokeAll('2')).toBe(1);
  });

  it('refuses an expired token, and prune deletes it', async () => {
    const { token, record } = await tokens.create(1, 'short', { expiresIn: '1h' });
    expect(record.expiresAt?.getTime()).toBe(clock.now + 3_600_000);
    const seconds = await tokens.create(1, 'seconds', { expiresIn: 30 });
    expect(seconds.record.expiresAt?.getTime()).toBe(clock.now + 30_000);
    expect(await tokens.verify(token)).toBeDefined();
    clock.now += 3_600_000;
    expect(await tokens.verify(token)).toBeUndefined();
    expect(await tokens.prune()).toBe(2);
    const defaults = new ApiTokens({
      connection,
      prefix: 'erp',
      defaultExpiresInMs: 5000,
      now: () => clock.now,
    });
    expect((await defaults.create(1, 'd')).record.expiresAt?.getTime()).toBe(clock.now + 5000);
  });

  it('keeps abilities, and grants nothing from a corrupted abilities column', async () => {
    const { token } = await tokens.create(1, 'reader', { abilities: ['orders.read'] });
    const verified = await tokens.verify(token);
    expect(verified?.abilities).toEqual(['orders.read']);
    expect(tokenCan(verified!, 'orders.read')).toBe(true);
    expect(tokenCan(verified!, 'orders.delete')).toBe(false);
    expect(tokenCan({ abilities: ['*'] }, 'anything')).toBe(true);
    await connection()
      .kysely.updateTable(API_TOKENS_TABLE)
      .set({ abilities: '{"*":true}' })
      .execute();
    expect((await tokens.verify(token))?.abilities).toEqual([]);
    await connection()
      .kysely.updateTable(API_TOKENS_TABLE)
      .set({ abilities: 'not json' })
      .execute();
    expect((await tokens.verify(token))?.abilities).toEqual([]);
  });

  it('refuses a tampered secret, another id, another prefix and malformed values', async () => {
    const { token } = await tokens.create(1, 'x');
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const dot = token.indexOf('.');
    for (const bad of [
      flip(token, token.length - 1),
      flip(token, dot + 1),
      flip(token, 5),
      token.replace(/^erp_/, 'keel_'),
      token.toUpperCase(),
      `${token}x`,
      token.slice(0, -1),
      token.replace('.', ''),
      ` ${token}`,
      '',
      'erp_',
      'erp_.',
      'a'.repeat(10_000),
      `erp_${'A'.repeat(16)}.${'A'.repeat(43)}`,
      `erp_${"'; DROP TABLE api_tokens; --".padEnd(16, 'x')}.${'A'.repeat(43)}`,
      42,
      null,
      undefined,
      { toString: () => token },
      [token],
    ])
      expect(await tokens.verify(bad), String(bad)).toBeUndefined();
    expect(await tokens.verify(token)).toBeDefined();
  });

  it('writes last_used_at at most once per throttle window', async () => {
    const { token, record } = await tokens.create(1, 'x');
    const lastUsed = async () => (await tokens.list(1))[0]?.lastUsedAt?.getTime();
    expect(await lastUsed()).toBeUndefined();
    const first = clock.now;
    expect((await tokens.verify(token))?.lastUsedAt?.getTime()).toBe(first);
    const queries: string[] = [];
    const off = connection().onQuery((q) => queries.push(q.sql));
    clock.now += 59_000;
    await tokens.verify(token);
    expect(queries.filter((q) => /^update/i.test(q))).toEqual([]);
    expect(await lastUsed()).toBe(first);
    clock.now += 1_000;
    await tokens.verify(token);
    off();
    expect(queries.filter((q) => /^update/i.test(q))).toHaveLength(1);
    expect(await lastUsed()).toBe(first + 60_000);
    expect(errors).toEqual([]);
    expect(record.lastUsedAt).toBeNull();
  });

  it('refuses bad create options', async () => {
    for (const [name, options] of [
      ['', {}],
      ['x'.repeat(256), {}],
      ['ok', { abilities: 'orders.read' }],
      ['ok', { abilities: [1] }],
      ['ok', { abilities: [''] }],
      ['ok', { expiresIn: -5 }],
      ['ok', { expiresIn: 'soon' }],
      ['ok', { expiresIn: 0 }],
    ] as const)
      await expect(tokens.create(1, name, options as never), name).rejects.toThrow(
        E_TOKEN_INVALID_OPTIONS,
      );
    await expect(tokens.create({}, 'no id')).rejects.toThrow(E_AUTH_USER_ID_INVALID);
  });
});

describe('digestsEqual', () => {
  it('compares equal-length digests and never matches other lengths', () => {
    const a = createHash('sha256').update('a').digest();
    const b = createHash('sha256').update('b').digest();
    expect(digestsEqual(a, Buffer.from(a))).toBe(true);
    expect(digestsEqual(a, b)).toBe(false);
    expect(digestsEqual(a, a.subarray(0, 16))).toBe(false);
    expect(digestsEqual(a, Buffer.alloc(0))).toBe(false);
  });
});
