import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../../test/support/databases.js';
import { Connection } from '../../../db/index.js';
import { createHttpApp } from '../../../http/index.js';
import { createNullLogger } from '../../../kernel/index.js';
import { idempotency } from '../idempotency-middleware.js';
import { idempotencyStoreContract } from '../idempotency-store.contract.js';
import {
  createIdempotencyKeysTable,
  IDEMPOTENCY_TABLE,
} from '../migrations/create-idempotency-keys-table.js';
import { DatabaseIdempotencyStore } from './database-idempotency-store.js';

describeEachDialect('DatabaseIdempotencyStore', (database, dialect) => {
  const open = async (table?: string): Promise<Connection> => {
    const connection = new Connection({
      name: 'main',
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    await createIdempotencyKeysTable(table).up(connection.kysely);
    return connection;
  };

  let connection: Connection;
  idempotencyStoreContract(dialect, async () => {
    connection = await open();
    return {
      store: new DatabaseIdempotencyStore({ connection }),
      cleanup: async () => {
        await createIdempotencyKeysTable().down?.(connection.kysely);
        await connection.close();
      },
    };
  });

  it('records a response written inside a transaction the handler opened', async () => {
    const own = await open('idem_trx');
    const app = await createHttpApp();
    try {
      await own.kysely.schema.createTable('idem_orders').addColumn('id', 'integer').execute();
      const store = new DatabaseIdempotencyStore({ connection: own, table: 'idem_trx' });
      let calls = 0;
      app.router
        .post('/orders', async (ctx) => {
          calls++;
          await own.transaction(async () => {
            await sql`INSERT INTO idem_orders (id) VALUES (${calls})`.execute(own.db);
            ctx.status(201).json({ id: calls });
            await sql`SELECT 1`.execute(own.db);
          });
        })
        .middleware([idempotency({ store })]);
      const send = () =>
        app.inject({ method: 'POST', url: '/orders', headers: { 'idempotency-key': 'trx-1' } });
      const first = await send();
      expect(first.json()).toEqual({ id: 1 });
      const again = await send();
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual({ id: 1 });
      expect(calls).toBe(1);
      const rows = await sql<{ id: number }>`SELECT id FROM idem_orders`.execute(own.kysely);
      expect(rows.rows.map((r) => Number(r.id))).toEqual([1]);
    } finally {
      await own.kysely.schema.dropTable('idem_orders').ifExists().execute();
      await createIdempotencyKeysTable('idem_trx').down?.(own.kysely);
      await own.close();
    }
  });

  describe('prune()', () => {
    it('deletes expired rows in batches and leaves live ones', async () => {
      const own = await open('idem_prune');
      try {
        const store = new DatabaseIdempotencyStore({
          connection: own,
          table: 'idem_prune',
          pruneBatchSize: 3,
        });
        const now = 1_000_000;
        for (let i = 0; i < 7; i++)
          await store.claim({
            key: `old${i}`.padEnd(64, '0'),
            fingerprint: 'f'.repeat(64),
            token: `t${i}`,
            now,
            lockedUntil: now + 10,
            expiresAt: now + 100 + i,
          });
        await store.claim({
          key: 'live'.padEnd(64, '0'),
          fingerprint: 'f'.repeat(64),
          token: 'live',
          now,
          lockedUntil: now + 10,
          expiresAt: now + 10_000,
        });
        expect(await store.prune(now + 106)).toBe(7);
        expect(await store.prune(now + 106)).toBe(0);
        const left = await sql<{ key_hash: string }>`
          SELECT key_hash FROM ${sql.table('idem_prune')}`.execute(own.kysely);
        expect(left.rows.map((r) => r.key_hash)).toEqual(['live'.padEnd(64, '0')]);
      } finally {
        await createIdempotencyKeysTable('idem_prune').down?.(own.kysely);
        await own.close();
      }
    });

    it('refuses a batch size out of range', async () => {
      expect(
        () =>
          new DatabaseIdempotencyStore({ connection, table: IDEMPOTENCY_TABLE, pruneBatchSize: 0 }),
      ).toThrow(RangeError);
    });
  });
});
