import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect, useEmptyDatabase } from '../../../test/support/databases.js';
import { E_AUTH_USER_ID_INVALID, E_INVALID_ROLE_NAME, E_ROLE_NOT_FOUND } from '../errors.js';
import { createRolesTables, ROLE_USER_TABLE } from '../migrations/create-roles-tables.js';
import { permits, Roles } from './roles.js';

describeEachDialect('roles and permissions', (database) => {
  const connection = useEmptyDatabase(database);
  let roles: Roles;

  beforeEach(async () => {
    await createRolesTables.up(connection().kysely);
    roles = new Roles({ connection });
  });

  it('grants permissions to roles and roles to users', async () => {
    await roles.grant('clerk', 'orders.create');
    await roles.grant('clerk', 'orders.view');
    await roles.grant('manager', 'orders.*');
    await roles.assign({ id: 1 }, 'clerk');
    await roles.assign(2, 'manager');
    expect(await roles.all()).toEqual(['clerk', 'manager']);
    expect(await roles.rolesOf(1)).toEqual(['clerk']);
    expect(await roles.hasRole({ id: 1 }, 'clerk')).toBe(true);
    expect(await roles.hasRole(1, 'manager')).toBe(false);
    expect([...(await roles.permissionsOf(1))].sort()).toEqual(['orders.create', 'orders.view']);
    expect(await roles.userCan(1, 'orders.create')).toBe(true);
    expect(await roles.userCan(1, 'orders.delete')).toBe(false);
    expect(await roles.userCan(2, 'orders.delete')).toBe(true);
    expect(await roles.userCan(3, 'orders.view')).toBe(false);
    expect(await roles.permissionsOfRole('clerk')).toEqual(['orders.create', 'orders.view']);
  });

  it('is idempotent: granting and assigning twice keeps one row', async () => {
    await roles.grant('clerk', 'orders.create');
    await roles.grant('clerk', 'orders.create');
    await roles.create('clerk');
    await roles.assign(1, 'clerk');
    await roles.assign('1', 'clerk');
    expect(await roles.permissionsOfRole('clerk')).toEqual(['orders.create']);
    const rows = await connection().kysely.selectFrom(ROLE_USER_TABLE).selectAll().execute();
    expect(rows).toHaveLength(1);
    // Concurrent grants of the same pair both succeed.
    await Promise.all([roles.grant('a', 'p.x'), roles.grant('a', 'p.x'), roles.grant('a', 'p.x')]);
    expect(await roles.permissionsOfRole('a')).toEqual(['p.x']);
  });

  it('names compare exactly: Clerk is not clerk', async () => {
    await roles.grant('clerk', 'orders.create');
    await roles.grant('Clerk', 'Orders.Create');
    await roles.assign(1, 'Clerk');
    expect(await roles.userCan(1, 'orders.create')).toBe(false);
    expect(await roles.userCan(1, 'Orders.Create')).toBe(true);
    await expect(roles.assign(1, 'clerk ')).rejects.toThrow(E_INVALID_ROLE_NAME);
  });

  it('revokes, unassigns and deletes', async () => {
    await roles.grant('clerk', 'orders.create');
    await roles.grant('clerk', 'orders.view');
    await roles.assign(1, 'clerk');
    expect(await roles.revoke('clerk', 'orders.create')).toBe(true);
    expect(await roles.revoke('clerk', 'orders.create')).toBe(false);
    expect(await roles.revoke('nobody', 'orders.create')).toBe(false);
    expect(await roles.userCan(1, 'orders.create')).toBe(false);
    expect(await roles.unassign(1, 'clerk')).toBe(true);
    expect(await roles.unassign(1, 'clerk')).toBe(false);
    expect(await roles.userCan(1, 'orders.view')).toBe(false);
    await roles.assign(1, 'clerk');
    expect(await roles.delete('clerk')).toBe(true);
    expect(await roles.delete('clerk')).toBe(false);
    expect(await roles.rolesOf(1)).toEqual([]);
    expect(await roles.all()).toEqual([]);
  });

  it('refuses unknown roles, bad names and users without an id', async () => {
    await expect(roles.assign(1, 'ghost')).rejects.toThrow(E_ROLE_NOT_FOUND);
    for (const bad of ['', 'a b', 'x'.repeat(101), "clerk'; --", 'rôle'])
      await expect(roles.grant(bad, 'p'), bad).rejects.toThrow(E_INVALID_ROLE_NAME);
    await expect(roles.grant('r', '../etc')).rejects.toThrow(E_INVALID_ROLE_NAME);
    await expect(roles.assign({}, 'r')).rejects.toThrow(E_AUTH_USER_ID_INVALID);
    await expect(roles.permissionsOf({ id: 'x'.repeat(256) })).rejects.toThrow(
      E_AUTH_USER_ID_INVALID,
    );
  });
});

describe('permits', () => {
  it('matches exactly, by *, or by a prefix wildcard', () => {
    const held = new Set(['orders.view', 'reports.*']);
    expect(permits(held, 'orders.view')).toBe(true);
    expect(permits(held, 'orders.create')).toBe(false);
    expect(permits(held, 'reports.sales.monthly')).toBe(true);
    expect(permits(held, 'reports')).toBe(false);
    expect(permits(new Set(['*']), 'anything')).toBe(true);
    expect(permits(new Set(), 'orders.view')).toBe(false);
    expect(permits(new Set(['orders.view']), 'orders.view.extra')).toBe(false);
  });
});
