import { describe, expect, it } from 'vitest';
import type { KeelError } from '../support/index.js';
import {
  E_EVENT_DECLARATION_CONFLICT,
  E_INVALID_EVENT_DECLARATION,
  E_INVALID_EVENT_NAME,
  E_INVALID_LISTENER,
  E_LISTENER_FAILED,
  EventBus,
  type EventMeta,
} from './index.js';

type Events = {
  'orders.placed': { orderId: number };
  'orders.shipped': { orderId: number };
  ping: undefined;
};

// Untyped access for hostile-input tests: what a JavaScript caller could pass.
type Loose = EventBus<Record<string, unknown>>;
const loose = (bus: EventBus<Events>) => bus as unknown as Loose;

function collect(bus: EventBus<Events>): KeelError[] {
  const errors: KeelError[] = [];
  bus.setErrorReporter((error) => errors.push(error));
  return errors;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('EventBus', () => {
  describe('ordering', () => {
    it('runs higher priority first and keeps registration order among equals', async () => {
      const bus = new EventBus<Events>();
      const order: string[] = [];
      bus.on('orders.placed', () => void order.push('a0'));
      bus.on('orders.placed', () => void order.push('b10'), { priority: 10 });
      bus.on('orders.placed', () => void order.push('c0'));
      bus.on('orders.placed', () => void order.push('d-5'), { priority: -5 });
      bus.on('orders.placed', () => void order.push('e10'), { priority: 10 });
      bus.on('orders.placed', () => void order.push('f0.5'), { priority: 0.5 });
      const result = await bus.emit('orders.placed', { orderId: 1 });
      expect(order).toEqual(['b10', 'e10', 'f0.5', 'a0', 'c0', 'd-5']);
      expect(result).toEqual({ event: 'orders.placed', listeners: 6, failures: [] });
    });

    it('awaits each async listener before starting the next', async () => {
      const bus = new EventBus<Events>();
      const log: string[] = [];
      bus.on('orders.placed', async () => {
        log.push('slow:start');
        await tick();
        await tick();
        log.push('slow:end');
      });
      bus.on('orders.placed', () => void log.push('fast'));
      await bus.emit('orders.placed', { orderId: 1 });
      expect(log).toEqual(['slow:start', 'slow:end', 'fast']);
    });

    it('passes the payload and one frozen meta object to every listener', async () => {
      const bus = new EventBus<Events>();
      const metas: EventMeta[] = [];
      const payload = { orderId: 9 };
      const seen: unknown[] = [];
      for (let i = 0; i < 2; i++) {
        bus.on('orders.placed', (p, meta) => {
          seen.push(p);
          metas.push(meta);
        });
      }
      const before = Date.now();
      await bus.emit('orders.placed', payload);
      expect(seen).toEqual([payload, payload]);
      expect(seen[0]).toBe(payload);
      expect(metas[0]).toBe(metas[1]);
      expect(metas[0]!.event).toBe('orders.placed');
      expect(metas[0]!.emittedAt).toBeGreaterThanOrEqual(before);
      expect(Object.isFrozen(metas[0])).toBe(true);
    });

    it('does not let listeners added or removed during an emit change that emit', async () => {
      const bus = new EventBus<Events>();
      const log: string[] = [];
      const late = () => void log.push('late');
      const removed = () => void log.push('removed');
      bus.on('orders.placed', () => {
        log.push('first');
        bus.on('orders.placed', late);
        bus.off('orders.placed', removed);
      });
      bus.on('orders.placed', removed);
      await bus.emit('orders.placed', { orderId: 1 });
      expect(log).toEqual(['first', 'removed']);
      log.length = 0;
      await bus.emit('orders.placed', { orderId: 2 });
      expect(log).toEqual(['first', 'late']);
    });
  });

  describe('failures', () => {
    it('reports a throwing or rejecting listener and still runs the others', async () => {
      const bus = new EventBus<Events>();
      const errors = collect(bus);
      const ran: string[] = [];
      const boom = new Error('stock service down');
      bus.on('orders.placed', function reserveStock() {
        throw boom;
      });
      bus.on('orders.placed', async () => Promise.reject(new Error('smtp')), {
        name: 'send-mail',
        module: 'mail',
      });
      bus.on('orders.placed', () => void ran.push('audit'));
      const result = await bus.emit('orders.placed', { orderId: 3 });
      expect(ran).toEqual(['audit']);
      expect(result.listeners).toBe(3);
      expect(result.failures.map((f) => [f.listener, f.module])).toEqual([
        ['reserveStock', null],
        ['send-mail', 'mail'],
      ]);
      expect(errors).toHaveLength(2);
      const [first, second] = errors;
      expect(E_LISTENER_FAILED.is(first)).toBe(true);
      expect(first!.message).toBe(
        'Listener "reserveStock" failed on event "orders.placed": stock service down',
      );
      expect(first!.cause).toBe(boom);
      expect(first!.details).toEqual({
        event: 'orders.placed',
        listener: 'reserveStock',
        module: null,
      });
      expect(second!.message).toBe(
        'Listener "send-mail" of module "mail" failed on event "orders.placed": smtp',
      );
      expect(result.failures[0]!.error).toBe(first);
    });

    it('names anonymous listeners module#index and describes thrown non-errors', async () => {
      const bus = new EventBus<Events>();
      const errors = collect(bus);
      const throwers = [() => 'string thrown', () => undefined, () => ({ code: 1 })];
      for (const value of throwers) {
        bus.on(
          'orders.placed',
          [
            () => {
              throw value();
            },
          ][0]!,
          { module: 'billing' },
        );
      }
      bus.on('orders.placed', [() => Promise.reject(null)][0]!);
      await bus.emit('orders.placed', { orderId: 1 });
      expect(errors.map((e) => e.message)).toEqual([
        'Listener "billing#0" of module "billing" failed on event "orders.placed": string thrown',
        'Listener "billing#1" of module "billing" failed on event "orders.placed": undefined',
        'Listener "billing#2" of module "billing" failed on event "orders.placed": [object Object]',
        'Listener "anonymous#0" failed on event "orders.placed": null',
      ]);
    });

    it('stops a halting event at the first failure and rejects emit', async () => {
      const bus = new EventBus<Events>().declare('orders.placed', { halting: true });
      const errors = collect(bus);
      const ran: string[] = [];
      bus.on('orders.placed', () => void ran.push('validate'), { priority: 10 });
      bus.on('orders.placed', async function checkCredit() {
        await tick();
        throw new Error('over limit');
      });
      bus.on('orders.placed', () => void ran.push('save'), { priority: -10 });
      const failure = await bus.emit('orders.placed', { orderId: 1 }).catch((e: unknown) => e);
      expect(E_LISTENER_FAILED.is(failure)).toBe(true);
      expect((failure as Error).message).toContain('"checkCredit" failed on event "orders.placed"');
      expect(ran).toEqual(['validate']);
      // The caller owns a rejected emit's error: it is not reported a second time.
      expect(errors).toEqual([]);
    });

    it('keeps failing wildcards from halting', async () => {
      const bus = new EventBus<Events>().declare('orders.placed', { halting: true });
      const errors = collect(bus);
      const ran: string[] = [];
      bus.onAny(
        () => {
          throw new Error('metrics down');
        },
        { priority: 100, name: 'metrics' },
      );
      bus.on('orders.placed', () => void ran.push('save'));
      const result = await bus.emit('orders.placed', { orderId: 1 });
      expect(ran).toEqual(['save']);
      expect(result.failures.map((f) => f.listener)).toEqual(['metrics']);
      expect(errors).toHaveLength(1);
    });

    it('keeps failures until a reporter is set, bounded, then replays them', async () => {
      const bus = new EventBus<Events>();
      bus.on('orders.placed', ({ orderId }) => {
        throw new Error(`fail ${orderId}`);
      });
      for (let i = 0; i < 105; i++) await bus.emit('orders.placed', { orderId: i });
      const errors = collect(bus);
      expect(errors).toHaveLength(100);
      expect(errors[0]!.message).toContain('fail 5');
      expect(errors.at(-1)!.message).toContain('fail 104');
      await bus.emit('orders.placed', { orderId: 200 });
      expect(errors).toHaveLength(101);
    });

    it('survives a reporter that throws', async () => {
      const bus = new EventBus<Events>();
      bus.setErrorReporter(() => {
        throw new Error('logger broken');
      });
      bus.on('orders.placed', () => {
        throw new Error('listener broken');
      });
      const result = await bus.emit('orders.placed', { orderId: 1 });
      expect(result.failures).toHaveLength(1);
    });

    it('rejects a reporter that is not a function', () => {
      const bus = new EventBus<Events>();
      expect(() => bus.setErrorReporter('log' as never)).toThrow(E_INVALID_LISTENER);
    });
  });

  describe('once', () => {
    it('runs a once listener a single time and removes it', async () => {
      const bus = new EventBus<Events>();
      const seen: number[] = [];
      bus.once('orders.placed', ({ orderId }) => void seen.push(orderId));
      bus.on('orders.placed', () => {}, { once: true, name: 'also-once' });
      await bus.emit('orders.placed', { orderId: 1 });
      await bus.emit('orders.placed', { orderId: 2 });
      expect(seen).toEqual([1]);
      expect(bus.hasListeners('orders.placed')).toBe(false);
    });

    it('is removed before it runs, so re-entrant emits do not call it twice', async () => {
      const bus = new EventBus<Events>();
      let calls = 0;
      bus.once('orders.placed', async ({ orderId }) => {
        calls++;
        if (orderId < 3) await bus.emit('orders.placed', { orderId: orderId + 1 });
      });
      await bus.emit('orders.placed', { orderId: 1 });
      expect(calls).toBe(1);
    });

    it('is not run again by an outer emit after an inner emit ran it', async () => {
      const bus = new EventBus<Events>();
      const log: string[] = [];
      bus.on(
        'orders.placed',
        async ({ orderId }) => {
          if (orderId === 1) await bus.emit('orders.placed', { orderId: 2 });
        },
        { priority: 10 },
      );
      bus.once('orders.placed', ({ orderId }) => void log.push(`once:${orderId}`));
      const outer = await bus.emit('orders.placed', { orderId: 1 });
      expect(log).toEqual(['once:2']);
      expect(outer.listeners).toBe(1);
    });

    it('can be cancelled with its unsubscribe function', async () => {
      const bus = new EventBus<Events>();
      let calls = 0;
      const off = bus.once('orders.placed', () => void calls++);
      off();
      off();
      await bus.emit('orders.placed', { orderId: 1 });
      expect(calls).toBe(0);
    });
  });

  describe('removal', () => {
    it('unsubscribes exactly the registration it was returned for', async () => {
      const bus = new EventBus<Events>();
      let calls = 0;
      const listener = () => void calls++;
      const off = bus.on('orders.placed', listener);
      bus.on('orders.placed', listener);
      off();
      await bus.emit('orders.placed', { orderId: 1 });
      expect(calls).toBe(1);
    });

    it('off() removes every registration of a listener for that event only', async () => {
      const bus = new EventBus<Events>();
      const seen: string[] = [];
      const listener = (_: unknown, meta: EventMeta) => void seen.push(meta.event);
      bus.on('orders.placed', listener);
      bus.on('orders.placed', listener, { priority: 3 });
      bus.on('orders.shipped', listener);
      expect(bus.off('orders.placed', listener)).toBe(true);
      expect(bus.off('orders.placed', listener)).toBe(false);
      expect(bus.off('ping', () => {})).toBe(false);
      await bus.emit('orders.placed', { orderId: 1 });
      await bus.emit('orders.shipped', { orderId: 1 });
      expect(seen).toEqual(['orders.shipped']);
    });

    it("removeModule drops a module's listeners and wildcards and counts them", async () => {
      const bus = new EventBus<Events>();
      const ran: string[] = [];
      bus.on('orders.placed', () => void ran.push('billing'), { module: 'billing' });
      bus.on('orders.shipped', () => void ran.push('billing'), { module: 'billing' });
      bus.onAny(() => void ran.push('billing-any'), { module: 'billing' });
      bus.on('orders.placed', () => void ran.push('orders'), { module: 'orders' });
      bus.onAny(() => void ran.push('audit'), { module: 'audit' });
      expect(bus.removeModule('billing')).toBe(3);
      expect(bus.removeModule('billing')).toBe(0);
      expect(bus.removeModule('nobody')).toBe(0);
      await bus.emit('orders.placed', { orderId: 1 });
      await bus.emit('orders.shipped', { orderId: 1 });
      expect(ran).toEqual(['orders', 'audit', 'audit']);
    });
  });

  describe('wildcards', () => {
    it('receives every event as a frozen envelope, merged by priority', async () => {
      const bus = new EventBus<Events>();
      const log: string[] = [];
      const envelopes: unknown[] = [];
      bus.on('orders.placed', () => void log.push('low'), { priority: -1 });
      const off = bus.onAny(
        (emitted, meta) => {
          envelopes.push(emitted);
          log.push(`any:${emitted.event}:${meta.event}`);
        },
        { name: 'audit' },
      );
      bus.on('orders.placed', () => void log.push('high'), { priority: 1 });
      bus.on('orders.placed', () => void log.push('zero'));
      await bus.emit('orders.placed', { orderId: 5 });
      await bus.emit('ping');
      expect(log).toEqual([
        'high',
        'any:orders.placed:orders.placed',
        'zero',
        'low',
        'any:ping:ping',
      ]);
      expect(envelopes[0]).toEqual({ event: 'orders.placed', payload: { orderId: 5 } });
      expect(Object.isFrozen(envelopes[0])).toBe(true);
      expect(bus.listeners('orders.placed').map((l) => `${l.event}/${l.name}`)).toEqual([
        'orders.placed/anonymous#1',
        '*/audit',
        'orders.placed/anonymous#2',
        'orders.placed/anonymous#0',
      ]);
      off();
      log.length = 0;
      await bus.emit('orders.placed', { orderId: 6 });
      expect(log).toEqual(['high', 'zero', 'low']);
    });

    it('counts towards hasListeners', () => {
      const bus = new EventBus<Events>();
      expect(bus.hasListeners('ping')).toBe(false);
      const off = bus.onAny(() => {});
      expect(bus.hasListeners('ping')).toBe(true);
      off();
      expect(bus.hasListeners('ping')).toBe(false);
    });
  });

  describe('emitting without listeners', () => {
    it('resolves an empty frozen result, the same one on every call', async () => {
      const bus = new EventBus<Events>();
      const first = bus.emit('orders.placed', { orderId: 1 });
      const second = bus.emit('orders.placed', { orderId: 2 });
      expect(second).toBe(first);
      const result = await first;
      expect(result).toEqual({ event: 'orders.placed', listeners: 0, failures: [] });
      expect(Object.isFrozen(result)).toBe(true);
      expect(Object.isFrozen(result.failures)).toBe(true);
    });

    it('stops using the cached result once a listener is added', async () => {
      const bus = new EventBus<Events>();
      await bus.emit('orders.placed', { orderId: 1 });
      let calls = 0;
      const off = bus.on('orders.placed', () => void calls++);
      expect((await bus.emit('orders.placed', { orderId: 2 })).listeners).toBe(1);
      off();
      expect((await bus.emit('orders.placed', { orderId: 3 })).listeners).toBe(0);
      expect(calls).toBe(1);
    });

    it('caps the cache of silent names but still emits past it', async () => {
      const bus = loose(new EventBus<Events>());
      for (let i = 0; i < 1100; i++) await bus.emit(`silent.${i}`, null);
      const result = await bus.emit('silent.1099', null);
      expect(result.listeners).toBe(0);
    });
  });

  describe('listings', () => {
    it('lists listeners as plain serialisable data, sorted by event then run order', () => {
      const bus = new EventBus<Events>();
      bus.on('orders.shipped', function notifyCustomer() {}, { module: 'mail', priority: 2 });
      bus.on('orders.placed', () => {}, { module: 'billing', name: 'invoice' });
      bus.once('orders.placed', () => {}, { module: 'stock', priority: 5 });
      bus.onAny(() => {}, { name: 'audit' });
      const all = bus.listeners();
      expect(JSON.parse(JSON.stringify(all))).toEqual(all);
      expect(all).toEqual([
        { event: 'orders.placed', name: 'stock#0', module: 'stock', priority: 5, once: true },
        { event: 'orders.placed', name: 'invoice', module: 'billing', priority: 0, once: false },
        {
          event: 'orders.shipped',
          name: 'notifyCustomer',
          module: 'mail',
          priority: 2,
          once: false,
        },
        { event: '*', name: 'audit', module: null, priority: 0, once: false },
      ]);
      expect(bus.listeners('ping')).toEqual([all[3]]);
    });
  });

  describe('declarations', () => {
    it('lists declarations sorted, and allows a consistent redeclaration', () => {
      const bus = new EventBus<Events>()
        .declare('orders.shipped')
        .declare('orders.placed', { halting: true, description: 'Order accepted' })
        .declare('orders.placed', { description: 'ignored: first one wins' })
        .declare('orders.placed', { halting: true });
      expect(bus.declarations()).toEqual([
        { event: 'orders.placed', halting: true, description: 'Order accepted' },
        { event: 'orders.shipped', halting: false, description: null },
      ]);
      bus.declare('orders.shipped', { description: 'Handed to the carrier' });
      expect(bus.declarations()[1]!.description).toBe('Handed to the carrier');
    });

    it('refuses a redeclaration that contradicts the first', () => {
      const bus = new EventBus<Events>().declare('orders.placed', { halting: true });
      expect(() => bus.declare('orders.placed', { halting: false })).toThrow(
        'Event "orders.placed" is already declared halting; it cannot be redeclared non-halting',
      );
      bus.declare('ping');
      expect(() => bus.declare('ping', { halting: true })).toThrow(E_EVENT_DECLARATION_CONFLICT);
    });

    it('rejects malformed declarations', () => {
      const bus = loose(new EventBus<Events>());
      expect(() => bus.declare('x', null as never)).toThrow(E_INVALID_EVENT_DECLARATION);
      expect(() => bus.declare('x', { halting: 'yes' } as never)).toThrow(
        'Invalid declaration of event "x": "halting" must be a boolean, got string',
      );
      expect(() => bus.declare('x', { description: 42 } as never)).toThrow(/"description"/);
      expect(() => bus.declare('bad name')).toThrow(E_INVALID_EVENT_NAME);
    });
  });

  describe('bad input', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['', /it is empty/],
      ['orders placed', /whitespace or a control character at position 6/],
      ['orders\u0000placed', /control character/],
      ['orders.*', /"\*" \(reserved for wildcards\)/],
      ['x'.repeat(201), /201 characters long \(at most 200\)/],
      [42, /expected a string, got number/],
      [null, /expected a string, got null/],
      [['a'], /expected a string, got array/],
    ];

    it.each(bad)('rejects the event name %j', async (name, reason) => {
      const bus = loose(new EventBus<Events>());
      expect(() => bus.on(name as string, () => {})).toThrow(reason);
      expect(() => bus.once(name as string, () => {})).toThrow(E_INVALID_EVENT_NAME);
      expect(() => bus.off(name as string, () => {})).toThrow(E_INVALID_EVENT_NAME);
      expect(() => bus.declare(name as string)).toThrow(E_INVALID_EVENT_NAME);
      await expect(bus.emit(name as string, {})).rejects.toThrow(reason);
      bus.onAny(() => {});
      await expect(bus.emit(name as string, {})).rejects.toThrow(E_INVALID_EVENT_NAME);
    });

    it('clips a huge name in the message', () => {
      const bus = loose(new EventBus<Events>());
      try {
        bus.on('y'.repeat(100_000), () => {});
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message.length).toBeLessThan(200);
        expect((error as KeelError).details).toEqual({ event: 'y'.repeat(200) });
      }
    });

    it('rejects listeners that are not functions and malformed options', () => {
      const bus = loose(new EventBus<Events>());
      expect(() => bus.on('a', 'handler' as never)).toThrow(
        'Invalid listener for event "a": expected a function, got string',
      );
      expect(() => bus.onAny(null as never)).toThrow(E_INVALID_LISTENER);
      const options: Array<[unknown, RegExp]> = [
        [5, /options must be an object, got number/],
        [null, /options must be an object, got null/],
        [{ priority: Number.NaN }, /priority must be a finite number, got NaN/],
        [{ priority: Number.POSITIVE_INFINITY }, /got Infinity/],
        [{ priority: '10' }, /priority must be a finite number, got string/],
        [{ once: 1 }, /"once" must be a boolean, got number/],
        [{ module: '' }, /"module" must be a non-empty string/],
        [{ name: '  ' }, /"name" must be a non-empty string/],
        [{ name: {} }, /"name" must be a non-empty string, got object/],
      ];
      for (const [value, reason] of options) {
        expect(() => bus.on('a', () => {}, value as never)).toThrow(reason);
      }
      expect(bus.listeners()).toEqual([]);
    });

    it('tolerates a function whose name is not a string', async () => {
      const bus = new EventBus<Events>();
      const errors = collect(bus);
      const listener = () => {
        throw new Error('x');
      };
      Object.defineProperty(listener, 'name', { value: 42 });
      bus.on('ping', listener);
      await bus.emit('ping');
      expect(errors[0]!.message).toContain('"anonymous#0"');
    });
  });
});
