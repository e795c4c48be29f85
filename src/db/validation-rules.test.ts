import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEachDialect } from '../../test/support/databases.js';
import { createHttpApp, type HttpApp, type HttpContext } from '../http/index.js';
import { createNullLogger } from '../kernel/index.js';
import { type RuleContext, validate } from '../validation/index.js';
import { resolveDatabaseConfig } from './config.js';
import { DatabaseManager, setDatabaseManager } from './database-manager.js';
import type { QueryEvent } from './instrumented-dialect.js';
import { exists, unique } from './validation-rules.js';

describeEachDialect('unique and exists rules', (database, dialect) => {
  let manager: DatabaseManager;
  let app: HttpApp;
  const queries: QueryEvent[] = [];

  beforeAll(async () => {
    manager = new DatabaseManager({
      config: resolveDatabaseConfig({ connections: { default: database().config } }),
      root: process.cwd(),
      logger: createNullLogger(),
    });
    setDatabaseManager(manager);
    manager.onQuery((event) => queries.push(event));
    const connection = manager.connection();
    await connection.schema
      .createTable('accounts')
      .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('email', 'varchar(200)', (c) => c.notNull())
      .addColumn('tenant_id', 'integer', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(40)')
      .execute();
    await connection
      .insertInto('accounts')
      .values([
        { email: 'taken@example.com', tenant_id: 1 },
        { email: 'other-tenant@example.com', tenant_id: 2 },
        { email: 'gone@example.com', tenant_id: 1, deleted_at: '2026-01-01T00:00:00Z' },
      ])
      .execute();

    app = await createHttpApp();
    app.router
      .post('/accounts', (ctx: HttpContext) => ({ created: ctx.validated.body }))
      .validate({
        body: z.object({
          email: z.email().check(unique('accounts', 'email')),
          tenantId: z.number().int().check(exists('accounts', 'tenant_id')),
        }),
      });
  });

  afterAll(async () => {
    setDatabaseManager(undefined);
    await manager?.close();
  });

  const Email = (options?: Parameters<typeof unique>[2]) =>
    z.object({ email: z.email().check(unique('accounts', 'email', options)) });

  it('passes a new value and fails a taken one with the unique rule', async () => {
    expect((await validate(Email(), { email: 'new@example.com' })).success).toBe(true);
    const taken = await validate(Email(), { email: 'taken@example.com' });
    expect(taken.success).toBe(false);
    expect(taken.errors).toEqual([
      expect.objectContaining({
        path: 'email',
        rule: 'unique',
        message: 'This value is already taken',
      }),
    ]);
  });

  it('ignores the row being updated, scopes by where, and skips soft-deleted rows', async () => {
    const [own] = await manager
      .connection()
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', 'taken@example.com')
      .execute();
    const ownId = (own as { id: number }).id;
    const update = Email({
      ignore: (ctx: RuleContext) => (ctx.context as { accountId?: number }).accountId,
    });
    expect(
      (await validate(update, { email: 'taken@example.com' }, { context: { accountId: ownId } }))
        .success,
    ).toBe(true);
    expect(
      (
        await validate(
          update,
          { email: 'taken@example.com' },
          { context: { accountId: ownId + 1000 } },
        )
      ).success,
    ).toBe(false);
    const scoped = Email({ where: { tenant_id: 1 } });
    expect((await validate(scoped, { email: 'other-tenant@example.com' })).success).toBe(true);
    expect((await validate(Email(), { email: 'gone@example.com' })).success).toBe(false);
    expect(
      (await validate(Email({ withoutTrashed: true }), { email: 'gone@example.com' })).success,
    ).toBe(true);
  });

  it('checks exists, binding hostile values and refusing unbindable ones without a query', async () => {
    const Tenant = z.object({ tenant: z.unknown().check(exists('accounts', 'tenant_id')) });
    expect((await validate(Tenant, { tenant: 2 })).success).toBe(true);
    const missing = await validate(Tenant, { tenant: 99 });
    expect(missing.errors).toEqual([
      expect.objectContaining({
        path: 'tenant',
        rule: 'exists',
        message: 'The selected value does not exist',
      }),
    ]);
    const Mail = z.object({ email: z.string().check(exists('accounts', 'email')) });
    expect((await validate(Mail, { email: "x' OR '1'='1" })).success).toBe(false);
    queries.length = 0;
    expect((await validate(Tenant, { tenant: { $ne: null } })).success).toBe(false);
    expect((await validate(Tenant, { tenant: [1, 2] })).success).toBe(false);
    expect(queries).toEqual([]);
  });

  it('runs no query for a value that already failed its other checks', async () => {
    queries.length = 0;
    const result = await validate(Email(), { email: 'not-an-email' });
    expect(result.errors?.map((e) => e.rule)).toEqual(['email']);
    expect(queries).toEqual([]);
  });

  it('answers 422 listing the database rule failures of a request body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/accounts',
      payload: { email: 'taken@example.com', tenantId: 42 },
    });
    expect(res.statusCode).toBe(422);
    const body = res.json() as { errors: Array<{ path: string; rule: string }> };
    expect(body.errors.map((e) => [e.path, e.rule])).toEqual([
      ['body.email', 'unique'],
      ['body.tenantId', 'exists'],
    ]);
    const ok = await app.inject({
      method: 'POST',
      url: '/accounts',
      payload: { email: 'fresh@example.com', tenantId: 1 },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('unique and exists definitions', () => {
  it('refuse table and column names that are not plain identifiers', () => {
    expect(() => unique('accounts; drop table x', 'email')).toThrow(TypeError);
    expect(() => exists('accounts', 'email" or 1=1')).toThrow(TypeError);
    expect(() => unique('accounts', 'email', { ignoreColumn: 'id--' })).toThrow(TypeError);
    expect(() => unique('public.accounts', 'email')).not.toThrow();
  });
});
