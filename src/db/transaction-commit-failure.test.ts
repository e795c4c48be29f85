import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../test/support/databases.js';

/**
 * A COMMIT that fails must give its pool connection back: Kysely's controlled transaction
 * keeps the connection until rollback() runs, and a connection never returned made the
 * pool's end() wait forever (seen as the queue's pg_terminate_backend test hanging in its
 * cleanup, once in a few dozen runs: the kill landed on a COMMIT).
 */
describeEachDialect('a transaction whose COMMIT fails', (database, dialect) => {
  it.runIf(dialect === 'postgres')(
    'rethrows the commit error, releases the connection, and the pool closes',
    async () => {
      const connection = testConnection(database());
      await sql`CREATE TABLE commit_fail (id int, CONSTRAINT commit_fail_unique UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`.execute(
        connection.kysely,
      );
      try {
        // The duplicate is only checked at COMMIT (deferred constraint): the commit fails.
        const failed = await connection
          .transaction(async (trx) => {
            await sql`INSERT INTO commit_fail VALUES (1), (1)`.execute(trx);
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(failed).toMatchObject({ code: 'E_DB_UNIQUE_VIOLATION' });
        const pool = connection.native<{ totalCount: number; idleCount: number }>();
        expect(pool?.totalCount).toBe(pool?.idleCount);
        // The connection still works, and nothing of the failed transaction is there.
        const rows = await sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM commit_fail`.execute(
          connection.kysely,
        );
        expect(Number(rows.rows[0]?.n)).toBe(0);
      } finally {
        await sql`DROP TABLE commit_fail`.execute(connection.kysely);
        const closed = await Promise.race([
          connection.close().then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('pool.end() hung'), 5_000)),
        ]);
        expect(closed).toBe('closed');
      }
    },
  );
});
