import { describe, expect, it } from 'vitest';
import type { KeelError } from '../support/index.js';
import {
  defineListeners,
  E_INVALID_EVENT_NAME,
  E_INVALID_LISTENERS_DEFINITION,
  EventBus,
  type ListenersDefinition,
  registerListeners,
} from './index.js';

type Events = {
  'orders.placed': { orderId: number };
  'orders.shipped': { orderId: number };
};

describe('defineListeners', () => {
  it('normalises functions, specs and arrays into frozen entries', () => {
    const reserveStock = () => {};
    const sendMail = async () => {};
    const def = defineListeners<Events>({
      'orders.placed': [reserveStock, { handle: sendMail, priority: -10, name: 'send-mail' }],
      'orders.shipped': { handle: reserveStock, once: true },
    });
    expect(def.kind).toBe('keel.listeners');
    expect(def.entries).toEqual([
      {
        event: 'orders.placed',
        handle: reserveStock,
        priority: 0,
        once: false,
        name: undefined,
        index: 0,
      },
      {
        event: 'orders.placed',
        handle: sendMail,
        priority: -10,
        once: false,
        name: 'send-mail',
        index: 1,
      },
      {
        event: 'orders.shipped',
        handle: reserveStock,
        priority: 0,
        once: true,
        name: undefined,
        index: 0,
      },
    ]);
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen(def.entries)).toBe(true);
    expect(Object.isFrozen(def.entries[0])).toBe(true);
    expect(defineListeners<Events>({ 'orders.placed': [] }).entries).toEqual([]);
  });

  const cases: Array<[string, unknown, string | RegExp]> = [
    [
      'a non-object',
      'nope',
      'Invalid listeners definition: expected an object of event names, got string',
    ],
    ['an array', [() => {}], /got array/],
    ['null', null, /got null/],
    ['a bad event name', { 'orders placed': () => {} }, /Invalid event name "orders placed"/],
    [
      'a non-function listener',
      { 'orders.placed': [() => {}, 42] },
      'Invalid listeners definition for event "orders.placed" (listener 1): expected a function or { handle, priority?, once?, name? }, got number',
    ],
    [
      'a spec without handle',
      { 'orders.placed': { priority: 1 } },
      /"handle" must be a function, got undefined/,
    ],
    [
      'a misspelt key',
      { 'orders.placed': { handle: () => {}, priorty: 1 } },
      /unknown key "priorty" \(did you mean "priority"\?\)/,
    ],
    [
      'a module key',
      { 'orders.placed': { handle: () => {}, module: 'x' } },
      /unknown key "module"$/,
    ],
    [
      'a bad priority',
      { 'orders.placed': { handle: () => {}, priority: Number.NaN } },
      /priority must be a finite number/,
    ],
    ['a null priority', { 'orders.placed': { handle: () => {}, priority: null } }, /got null/],
    [
      'a bad once',
      { 'orders.placed': { handle: () => {}, once: 'yes' } },
      /"once" must be a boolean/,
    ],
    [
      'an empty name',
      { 'orders.placed': { handle: () => {}, name: '' } },
      /"name" must be a non-empty string/,
    ],
  ];

  it.each(cases)('rejects %s', (_, map, message) => {
    expect(() => defineListeners(map as never)).toThrow(message);
    expect(() => defineListeners(map as never)).toThrow(E_INVALID_LISTENERS_DEFINITION);
  });

  it('keeps the underlying error as the cause', () => {
    try {
      defineListeners({ '': () => {} } as never);
      expect.unreachable();
    } catch (error) {
      expect(E_INVALID_EVENT_NAME.is((error as KeelError).cause)).toBe(true);
    }
  });

  it('ignores prototype-poisoning keys of a parsed map', () => {
    const map = JSON.parse('{"__proto__": {"handle": 1}, "orders.placed": []}');
    expect(() => defineListeners(map)).toThrow(/listener 0/);
    expect(({} as { handle?: unknown }).handle).toBeUndefined();
  });
});

describe('registerListeners', () => {
  it("registers a definition's listeners under the module, in order", async () => {
    const bus = new EventBus<Events>();
    const ran: string[] = [];
    const def = defineListeners<Events>({
      'orders.placed': [
        function reserveStock() {
          ran.push('stock');
        },
        { handle: () => void ran.push('mail'), priority: -1, name: 'send-mail' },
        { handle: () => void ran.push('first'), priority: 5 },
      ],
      'orders.shipped': { handle: () => void ran.push('shipped'), once: true },
    });
    registerListeners(bus, def, 'orders');
    expect(bus.listeners()).toEqual([
      { event: 'orders.placed', name: 'orders#2', module: 'orders', priority: 5, once: false },
      { event: 'orders.placed', name: 'reserveStock', module: 'orders', priority: 0, once: false },
      { event: 'orders.placed', name: 'send-mail', module: 'orders', priority: -1, once: false },
      { event: 'orders.shipped', name: 'orders#0', module: 'orders', priority: 0, once: true },
    ]);
    await bus.emit('orders.placed', { orderId: 1 });
    await bus.emit('orders.shipped', { orderId: 1 });
    await bus.emit('orders.shipped', { orderId: 1 });
    expect(ran).toEqual(['first', 'stock', 'mail', 'shipped']);
    expect(bus.removeModule('orders')).toBe(3);
  });

  it('accepts a plain map (a default export without defineListeners)', async () => {
    const bus = new EventBus<Events>();
    let calls = 0;
    registerListeners(bus, { 'orders.placed': () => void calls++ } as never, 'orders');
    await bus.emit('orders.placed', { orderId: 1 });
    expect(calls).toBe(1);
  });

  it('names the module in errors and registers nothing when one entry is bad', () => {
    const bus = new EventBus<Events>();
    const map = { 'orders.placed': [() => {}, { handle: 'x' }] };
    expect(() => registerListeners(bus, map as never, 'orders')).toThrow(
      'Invalid listeners definition of module "orders" for event "orders.placed" (listener 1): "handle" must be a function, got string',
    );
    expect(bus.listeners()).toEqual([]);
  });

  it('re-checks the entries of a hand-made definition', () => {
    const bus = new EventBus<Events>();
    const forged = {
      kind: 'keel.listeners',
      entries: [
        { event: 'orders.placed', handle: () => {}, priority: 0, once: false },
        { event: 'bad name', handle: () => {}, priority: 0, once: false },
      ],
    } as unknown as ListenersDefinition;
    expect(() => registerListeners(bus, forged, 'orders')).toThrow(
      /^Invalid listeners definition of module "orders": Invalid event name "bad name"/,
    );
    const noHandle = { kind: 'keel.listeners', entries: [{ event: 'a' }] };
    expect(() => registerListeners(bus, noHandle as never, 'orders')).toThrow(
      /"handle" must be a function/,
    );
    expect(bus.listeners()).toEqual([]);
  });

  it('rejects a missing module name or definition', () => {
    const bus = new EventBus<Events>();
    const def = defineListeners<Events>({});
    expect(() => registerListeners(bus, def, '')).toThrow(
      'Invalid listeners definition: the module name must be a non-empty string, got string',
    );
    expect(() => registerListeners(bus, def, undefined as never)).toThrow(/got undefined/);
    expect(() => registerListeners(bus, undefined as never, 'orders')).toThrow(
      'Invalid listeners definition of module "orders": expected an object of event names, got undefined',
    );
  });
});
