import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { Connection } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { createSessionsTable, SESSIONS_TABLE } from '../migrations/create-sessions-table.js';
import { generateSessionId, sessionHandle } from '../session-id.js';
import { CONTRACT_LIFETIME, runSessionStoreContract } from '../session-store.contract.js';
import { DatabaseSessionStore } from './database-store.js';

describeEachDialect('database session store', (database, dialect) => {
  const connect = (name: string) =>
    new Connection({
      name,
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });

  runSessionStoreContract(`database [${dialect}]`, { serverSide: true }, async (lifetime) => {
    const connection = connect('default');
    await createSessionsTable.up(connection.kysely);
    return {
      store: new DatabaseSessionStore({ connection, lifetime }),
      dump: async () =>
        JSON.stringify(await connection.selectFrom(SESSIONS_TABLE).selectAll().execute()),
      cleanup: async () => {
        await createSessionsTable.down?.(connection.kysely);
        await connection.close();
      },
    };
  });

  describe('the sessions table', () => {
    it('has the columns and indexes the migration promises, and drops cleanly', async () => {
      const connection = connect('migration');
      try {
        await createSessionsTable.up(connection.kysely);
        const tables = await connection.kysely.introspection.getTables();
        const table = tables.find((t) => t.name === SESSIONS_TABLE);
        expect(table?.columns.map((c) => c.name).sort()).toEqual([
          'created_at',
          'id',
          'ip',
          'last_activity',
          'payload',
          'user_agent',
          'user_id',
        ]);
        await createSessionsTable.down?.(connection.kysely);
        const after = await connection.kysely.introspection.getTables();
        expect(after.find((t) => t.name === SESSIONS_TABLE)).toBeUndefined();
      } finally {
        await connection.close();
      }
    });

    it('keeps the id hash, bounds the user agent, and reads a corrupt payload as no session', async () => {
      const connection = connect('rows');
      try {
        await createSessionsTable.up(connection.kysely);
        const store = new DatabaseSessionStore({ connection, lifetime: CONTRACT_LIFETIME });
        const id = generateSessionId();
        const now = Date.now();
        await store.write(id, {
          data: { a: 1 },
          flash: { new: [], old: [] },
          userId: '9',
          ip: '2001:db8::1',
          userAgent: 'U'.repeat(10_000),
          createdAt: now,
          lastActivity: now,
        });
        const row = (await connection
          .selectFrom(SESSIONS_TABLE)
          .selectAll()
          .executeTakeFirst()) as {
          id: string;
          user_agent: string;
          user_id: string;
        };
        expect(row.id).toBe(sessionHandle(id));
        expect(row.user_agent).toHaveLength(512);
        expect(String(row.user_id)).toBe('9');
        await connection
          .updateTable(SESSIONS_TABLE)
          .set({ payload: '{not json' })
          .where('id', '=', sessionHandle(id))
          .execute();
        expect(await store.read(id)).toBeUndefined();
        await createSessionsTable.down?.(connection.kysely);
      } finally {
        await connection.close();
      }
    });
  });
});
