import { describe, expect, it } from 'vitest';
import { E_FORBIDDEN } from '../../http/index.js';
import { E_GATE_UNAVAILABLE } from '../errors.js';
import { can, clearCurrentGate, setCurrentGate } from './can.js';
import { type DeniedCheck, Gate } from './gate.js';

interface User {
  id: number;
  admin?: boolean;
}
class Order {
  constructor(
    readonly ownerId: number,
    readonly locked = false,
  ) {}
}
class PriorityOrder extends Order {}
class Invoice {}

class OrderPolicy {
  before(user: User, ability: string) {
    if (user.admin) return true;
    if (ability === 'delete') return false;
    return undefined;
  }
  view() {
    return true;
  }
  update(user: User, order: Order) {
    return order.ownerId === user.id && !order.locked;
  }
  delete() {
    return true;
  }
  explode(): boolean {
    throw new Error('policy bug with secret 42');
  }
}

function gate(options: ConstructorParameters<typeof Gate<User>>[0] = {}) {
  const errors: Array<[unknown, string]> = [];
  const denied: DeniedCheck[] = [];
  const g = new Gate<User>({
    onError: (error, ability) => errors.push([error, ability]),
    onDenied: (d) => {
      denied.push(d);
    },
    ...options,
  });
  return { gate: g, errors, denied };
}

const alice: User = { id: 1 };
const bob: User = { id: 2 };
const admin: User = { id: 3, admin: true };

describe('Gate', () => {
  it('allows by a defined gate, only on a true result', async () => {
    const { gate: g } = gate();
    g.define('orders.update', (user: User, order: Order) => order.ownerId === user.id);
    g.define('truthy', () => 'yes' as unknown as boolean);
    g.define('async', async (user: User) => user.id === 1);
    expect(await g.allows(alice, 'orders.update', new Order(1))).toBe(true);
    expect(await g.allows(bob, 'orders.update', new Order(1))).toBe(false);
    expect(await g.denies(bob, 'orders.update', new Order(1))).toBe(true);
    expect(await g.allows(alice, 'truthy')).toBe(false);
    expect(await g.allows(alice, 'async')).toBe(true);
    expect(await g.allows(alice, 'undefined.ability')).toBe(false);
    expect(g.has('orders.update')).toBe(true);
  });

  it('denies guests', async () => {
    const { gate: g } = gate();
    g.define('open', () => true);
    expect(await g.allows(undefined, 'open')).toBe(false);
    expect(await g.allows(null, 'open')).toBe(false);
  });

  it('uses the policy of the model class (and of its parent), with its before hook', async () => {
    const { gate: g } = gate();
    g.policy(Order, OrderPolicy);
    expect(await g.allows(alice, 'update', new Order(1))).toBe(true);
    expect(await g.allows(alice, 'update', new Order(1, true))).toBe(false);
    expect(await g.allows(bob, 'update', new Order(1))).toBe(false);
    expect(await g.allows(bob, 'update', new PriorityOrder(2))).toBe(true);
    // before decides alone: admins may, nobody else may delete.
    expect(await g.allows(admin, 'update', new Order(1, true))).toBe(true);
    expect(await g.allows(alice, 'delete', new Order(1))).toBe(false);
    expect(await g.allows(admin, 'delete', new Order(1))).toBe(true);
    // The class itself, for abilities without an instance.
    expect(await g.allows(alice, 'view', Order)).toBe(true);
    // No policy for Invoice, no method on the policy, or Object's own members: denied.
    expect(await g.allows(alice, 'view', new Invoice())).toBe(false);
    expect(await g.allows(alice, 'archive', new Order(1))).toBe(false);
    expect(await g.allows(alice, 'constructor', new Order(1))).toBe(false);
    expect(await g.allows(alice, 'toString', new Order(1))).toBe(false);
  });

  it('runs global before hooks first', async () => {
    const { gate: g } = gate();
    g.define('orders.update', () => false);
    g.before((user) => (user.admin ? true : undefined));
    expect(await g.allows(admin, 'orders.update')).toBe(true);
    expect(await g.allows(alice, 'orders.update')).toBe(false);
  });

  it('denies when a policy, gate or hook throws, and reports the error', async () => {
    const { gate: g, errors } = gate();
    g.policy(Order, OrderPolicy);
    g.define('boom', () => {
      throw new Error('gate bug');
    });
    g.define('reject', () => Promise.reject(new Error('async gate bug')));
    expect(await g.allows(alice, 'explode', new Order(1))).toBe(false);
    expect(await g.allows(alice, 'boom')).toBe(false);
    expect(await g.allows(alice, 'reject')).toBe(false);
    expect(errors.map(([e, a]) => [(e as Error).message, a])).toEqual([
      ['policy bug with secret 42', 'explode'],
      ['gate bug', 'boom'],
      ['async gate bug', 'reject'],
    ]);
    const throwingHook = new Gate<User>({
      onError: () => {
        throw new Error('the reporter fails too');
      },
    });
    throwingHook.before(() => {
      throw new Error('hook bug');
    });
    throwingHook.define('open', () => true);
    expect(await throwingHook.allows(alice, 'open')).toBe(false);
  });

  it('authorize throws E_FORBIDDEN without leaking the cause, and reports the denial', async () => {
    const { gate: g, denied } = gate();
    g.policy(Order, OrderPolicy);
    await g.authorize(alice, 'update', new Order(1));
    const error = await g.authorize(alice, 'explode', new Order(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(E_FORBIDDEN);
    expect((error as Error).message).not.toContain('secret');
    expect((error as { status: number }).status).toBe(403);
    await expect(g.authorize(undefined, 'update', new Order(1))).rejects.toThrow(E_FORBIDDEN);
    expect(denied).toEqual([
      { ability: 'explode', user: alice, by: 'error' },
      { ability: 'update', user: undefined, by: 'guest' },
    ]);
  });

  it('falls back to the permissions when nothing defines the ability', async () => {
    const asked: User[] = [];
    const { gate: g } = gate({
      permissions: async (user) => {
        asked.push(user);
        return new Set(user.id === 1 ? ['orders.create', 'reports.*'] : []);
      },
    });
    g.define('orders.update', () => false);
    expect(await g.allows(alice, 'orders.create')).toBe(true);
    expect(await g.allows(alice, 'reports.sales')).toBe(true);
    expect(await g.allows(bob, 'orders.create')).toBe(false);
    // A defined gate wins over the permissions.
    expect(await g.allows(alice, 'orders.update')).toBe(false);
    expect(asked).toEqual([alice, alice, bob]);
    // A per-request view shares the definitions.
    const scoped = g.withPermissions(async () => new Set(['orders.update', 'x']));
    expect(await scoped.allows(bob, 'x')).toBe(true);
    expect(await scoped.allows(bob, 'orders.update')).toBe(false);
  });

  it('refuses bad definitions', () => {
    const { gate: g } = gate();
    expect(() => g.define('', () => true)).toThrow(TypeError);
    expect(() => g.define('x', 'yes' as never)).toThrow(TypeError);
  });
});

describe('can()', () => {
  it('answers from the current gate, and refuses before boot', async () => {
    setCurrentGate(undefined);
    await expect(can(alice, 'x')).rejects.toThrow(E_GATE_UNAVAILABLE);
    const { gate: g } = gate();
    g.policy(Order, OrderPolicy);
    setCurrentGate(g as never);
    try {
      expect(await can(alice, 'update', new Order(1))).toBe(true);
      expect(await can(bob, 'update', new Order(1))).toBe(false);
      // Another app's shutdown does not clear this app's gate.
      clearCurrentGate(new Gate() as never);
      expect(await can(alice, 'update', new Order(1))).toBe(true);
      clearCurrentGate(g as never);
      await expect(can(alice, 'update', new Order(1))).rejects.toThrow(E_GATE_UNAVAILABLE);
    } finally {
      setCurrentGate(undefined);
    }
  });
});
