import { deleteRedisKeys } from '../../lib/common.mjs';

// The services the queue peers use, as both bench scripts reach them: the PostgreSQL server
// of a URL, and the cleanup of what a peer left (its schema, its Redis keys).

/** pg's connection settings for a `postgres://user@host:port/db` URL. */
export function pgServer(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    database: u.pathname.slice(1) || 'test',
  };
}

/** The helpers a peer's `teardown(ctx, helpers)` calls. They run in the calling process. */
export function teardownHelpers({ pgUrl, redisUrl }) {
  return {
    async dropSchema(schema) {
      const { default: pg } = await import('pg');
      const client = new pg.Client(pgServer(pgUrl));
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
    deleteRedisPrefix: (prefix) => deleteRedisKeys(redisUrl, `${prefix}:*`),
  };
}
