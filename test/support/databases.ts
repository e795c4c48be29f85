import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { Connection } from '../../src/db/connection.js';
import type { ConnectionConfig, DialectName } from '../../src/db/index.js';
import { dropAllTables } from '../../src/db/migrations/index.js';
import { createNullLogger } from '../../src/kernel/index.js';
import { requireService } from './services.js';

/** The machine's servers (CI runs the same ones). */
export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
export const MARIADB = {
  host: '127.0.0.1',
  port: 3306,
  user: 'root',
  password: '',
  database: 'test',
};

/** One test's own database: a temp SQLite file, a PostgreSQL schema or a MariaDB database. */
export interface TestDatabase {
  readonly dialect: DialectName;
  /** The schema, database or file name that isolates this test. */
  readonly namespace: string;
  readonly config: ConnectionConfig;
  /** Drop everything the test made. */
  drop(): Promise<void>;
}

function namespaceName(): string {
  return `keel_t_${randomBytes(5).toString('hex')}`;
}

/** Run `statement` on the server's admin connection (pg Client / mysql2 connection). */
export async function adminQuery(
  dialect: 'postgres' | 'mysql',
  statement: string,
): Promise<unknown> {
  if (dialect === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client(POSTGRES);
    await client.connect();
    try {
      return (await client.query(statement)).rows;
    } finally {
      await client.end();
    }
  }
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(MARIADB);
  try {
    const [rows] = await connection.query(statement);
    return rows;
  } finally {
    await connection.end();
  }
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const namespace = namespaceName();
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'keel-db-'));
    return {
      dialect,
      namespace,
      config: {
        driver: 'sqlite',
        filename: join(dir, `${namespace}.sqlite`),
        wal: true,
        busyTimeoutMs: 5_000,
        foreignKeys: true,
        readonly: false,
      },
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const pool = { min: 0, max: 5, idleTimeoutMs: 10_000, acquireTimeoutMs: 10_000 };
  if (dialect === 'postgres') {
    await adminQuery('postgres', `CREATE SCHEMA ${namespace}`);
    return {
      dialect,
      namespace,
      config: { driver: 'postgres', ...POSTGRES, schema: namespace, pool, statementTimeoutMs: 0 },
      drop: async () => {
        await adminQuery('postgres', `DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      },
    };
  }
  await adminQuery('mysql', `CREATE DATABASE ${namespace} CHARACTER SET utf8mb4`);
  return {
    dialect,
    namespace,
    config: { driver: 'mysql', ...MARIADB, database: namespace, pool, statementTimeoutMs: 0 },
    drop: async () => {
      await adminQuery('mysql', `DROP DATABASE IF EXISTS ${namespace}`);
    },
  };
}

/** The dialects this run can test: SQLite always, the servers when they answer (or CI fails). */
export async function testDialects(): Promise<DialectName[]> {
  const dialects: DialectName[] = ['sqlite'];
  if (await requireService('PostgreSQL', POSTGRES.host, POSTGRES.port)) dialects.push('postgres');
  if (await requireService('MariaDB', MARIADB.host, MARIADB.port)) dialects.push('mysql');
  return dialects;
}

const available = await testDialects();

/**
 * Run a suite once per dialect, each against its own fresh namespace, dropped afterwards.
 *
 * @example
 * ```ts
 * describeEachDialect('transactions', (database) => {
 *   it('commits', async () => { const config = database().config; ... });
 * });
 * ```
 */
export function describeEachDialect(
  title: string,
  body: (database: () => TestDatabase, dialect: DialectName) => void,
): void {
  for (const dialect of available) {
    describe(`${title} [${dialect}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(dialect);
      });
      afterAll(async () => {
        await database?.drop();
      });
      body(() => {
        if (!database) throw new Error('the test database is created in beforeAll');
        return database;
      }, dialect);
    });
  }
}

/** A Keel connection to a test database (close it when done). */
export function testConnection(database: TestDatabase, name = 'main'): Connection {
  return new Connection({
    name,
    config: database.config,
    root: process.cwd(),
    logger: createNullLogger(),
  });
}

/**
 * Every test of the suite starts on an empty database: a connection is opened and every
 * table dropped before each test, and closed after it. Returns the current connection.
 */
export function useEmptyDatabase(database: () => TestDatabase): () => Connection {
  let connection: Connection | undefined;
  beforeEach(async () => {
    connection = testConnection(database());
    await dropAllTables(connection);
  });
  afterEach(async () => {
    await connection?.close();
    connection = undefined;
  });
  return () => {
    if (!connection) throw new Error('the connection is opened in beforeEach');
    return connection;
  };
}
