import { describe, expect, it } from 'vitest';
import { E_EVENT_ASSERTION_FAILED, E_INVALID_EVENT_NAME, EventBus } from './index.js';

type Events = {
  'orders.placed': { orderId: number; total: number };
  'orders.shipped': { orderId: number };
  'users.created': { id: string };
};

function setup() {
  const bus = new EventBus<Events>();
  const ran: string[] = [];
  bus.on('orders.placed', ({ orderId }) => void ran.push(`placed:${orderId}`));
  bus.on('orders.shipped', ({ orderId }) => void ran.push(`shipped:${orderId}`));
  return { bus, ran };
}

describe('EventFake', () => {
  it('records emits instead of calling listeners', async () => {
    const { bus, ran } = setup();
    const fake = bus.fake();
    const result = await bus.emit('orders.placed', { orderId: 1, total: 50 });
    await bus.emit('orders.placed', { orderId: 2, total: 150 });
    await bus.emit('users.created', { id: 'u1' });
    expect(ran).toEqual([]);
    expect(result).toEqual({ event: 'orders.placed', listeners: 0, failures: [] });
    expect(fake.emitted('orders.placed')).toEqual([
      { orderId: 1, total: 50 },
      { orderId: 2, total: 150 },
    ]);
    expect(fake.emitted('orders.shipped')).toEqual([]);
    expect(fake.all().map((r) => r.event)).toEqual([
      'orders.placed',
      'orders.placed',
      'users.created',
    ]);
    expect(typeof fake.all()[0]!.emittedAt).toBe('number');
    fake.assertEmitted('orders.placed');
    fake.assertEmitted('orders.placed', (p) => p.total > 100);
    fake.assertEmittedTimes('orders.placed', 2);
    fake.assertNotEmitted('orders.shipped');
    fake.assertNotEmitted('orders.placed', (p) => p.total > 1000);
  });

  it('counts as a listener so guarded emits are still recorded', async () => {
    const bus = new EventBus<Events>();
    expect(bus.hasListeners('users.created')).toBe(false);
    const fake = bus.fake({ only: ['users.created'] });
    expect(bus.hasListeners('users.created')).toBe(true);
    expect(bus.hasListeners('orders.placed')).toBe(false);
    fake.restore();
    expect(bus.hasListeners('users.created')).toBe(false);
  });

  it('also calls listeners with passthrough', async () => {
    const { bus, ran } = setup();
    const fake = bus.fake({ passthrough: true });
    const result = await bus.emit('orders.shipped', { orderId: 4 });
    expect(ran).toEqual(['shipped:4']);
    expect(result.listeners).toBe(1);
    fake.assertEmittedTimes('orders.shipped', 1);
  });

  it('fakes only the listed events', async () => {
    const { bus, ran } = setup();
    const fake = bus.fake({ only: ['orders.placed'] });
    await bus.emit('orders.placed', { orderId: 1, total: 1 });
    await bus.emit('orders.shipped', { orderId: 1 });
    expect(ran).toEqual(['shipped:1']);
    expect(fake.all()).toHaveLength(1);
    fake.assertNotEmitted('orders.shipped');
  });

  it('restores the real dispatch, keeps records readable, and can be replaced', async () => {
    const { bus, ran } = setup();
    const first = bus.fake();
    await bus.emit('orders.shipped', { orderId: 1 });
    const second = bus.fake();
    await bus.emit('orders.shipped', { orderId: 2 });
    first.restore(); // no longer installed: must not remove the second fake
    await bus.emit('orders.shipped', { orderId: 3 });
    expect(ran).toEqual([]);
    second.restore();
    await bus.emit('orders.shipped', { orderId: 4 });
    expect(ran).toEqual(['shipped:4']);
    expect(first.emitted('orders.shipped')).toEqual([{ orderId: 1 }]);
    expect(second.emitted('orders.shipped')).toEqual([{ orderId: 2 }, { orderId: 3 }]);
  });

  it('clears what it recorded', async () => {
    const bus = new EventBus<Events>();
    const fake = bus.fake();
    await bus.emit('users.created', { id: 'a' });
    fake.clear();
    fake.assertNothingEmitted();
    await bus.emit('users.created', { id: 'b' });
    expect(fake.emitted('users.created')).toEqual([{ id: 'b' }]);
  });

  describe('failed assertions', () => {
    it('says nothing was emitted', () => {
      const fake = new EventBus<Events>().fake();
      expect(() => fake.assertEmitted('orders.placed')).toThrow(
        'Expected event "orders.placed" to be emitted, but it was not. No events were emitted.',
      );
    });

    it('lists what was emitted and suggests a near name', async () => {
      const bus = new EventBus<Events & { 'orders.placd': null }>();
      const fake = bus.fake();
      await bus.emit('orders.placd', null);
      await bus.emit('users.created', { id: 'x' });
      await bus.emit('users.created', { id: 'y' });
      let thrown: unknown;
      try {
        fake.assertEmitted('orders.placed');
      } catch (error) {
        thrown = error;
      }
      expect(E_EVENT_ASSERTION_FAILED.is(thrown)).toBe(true);
      expect((thrown as Error).message).toBe(
        'Expected event "orders.placed" to be emitted, but it was not. Emitted: orders.placd (1), users.created (2). Did you mean "orders.placd"?',
      );
      expect(() => fake.assertEmittedTimes('orders.shipped', 1)).toThrow(
        'Expected event "orders.shipped" to be emitted once, but it was emitted 0 times. Emitted:',
      );
    });

    it('reports predicate and count mismatches', async () => {
      const bus = new EventBus<Events>();
      const fake = bus.fake();
      await bus.emit('orders.placed', { orderId: 1, total: 10 });
      await bus.emit('orders.placed', { orderId: 2, total: 20 });
      expect(() => fake.assertEmitted('orders.placed', (p) => p.orderId === 3)).toThrow(
        'Event "orders.placed" was emitted 2 times, but no payload matched the predicate.',
      );
      expect(() => fake.assertEmittedTimes('orders.placed', 3)).toThrow(
        /emitted 3 times, but it was emitted 2 times\.$/,
      );
      expect(() => fake.assertNotEmitted('orders.placed')).toThrow(
        'Expected event "orders.placed" not to be emitted, but it was emitted 2 times.',
      );
      expect(() => fake.assertNotEmitted('orders.placed', (p) => p.total === 20)).toThrow(
        'Expected event "orders.placed" not to be emitted with a matching payload, but it was emitted once.',
      );
      expect(() => fake.assertNothingEmitted()).toThrow(
        'Expected no events to be emitted, but got: orders.placed (2).',
      );
    });
  });

  it('rejects a malformed only list', () => {
    const bus = new EventBus<Events>();
    expect(() => bus.fake({ only: 'orders.placed' as never })).toThrow(
      'fake({ only }) expects an array of event names',
    );
    expect(() => bus.fake({ only: ['bad name' as never] })).toThrow(E_INVALID_EVENT_NAME);
  });
});
