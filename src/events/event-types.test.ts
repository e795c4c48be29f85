import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineListeners,
  type EmitResult,
  type EmittedEvent,
  EventBus,
  type EventMeta,
  type ListenerInfo,
} from './index.js';

// How an application types its events: by augmenting the public module. The names are
// namespaced so they cannot clash with another file's augmentation of the same map.
declare module 'keel/events' {
  interface EventMap {
    'events-test.order-placed': { orderId: number; total: number };
    'events-test.ready': undefined;
  }
}

type Local = {
  'user.created': { id: string };
  'user.deleted': { id: string; hard: boolean };
  // biome-ignore lint/suspicious/noConfusingVoidType: a void payload must work, so it is tested
  tick: void;
};

describe('event types', () => {
  it('types payloads from the augmented EventMap by default', async () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.on('events-test.order-placed', (payload, meta) => {
      expectTypeOf(payload).toEqualTypeOf<{ orderId: number; total: number }>();
      expectTypeOf(meta).toEqualTypeOf<EventMeta>();
      seen.push(payload.orderId);
    });
    const result = await bus.emit('events-test.order-placed', { orderId: 7, total: 10 });
    expectTypeOf(result).toEqualTypeOf<EmitResult>();
    expect(seen).toEqual([7]);

    // @ts-expect-error orderId must be a number
    await bus.emit('events-test.order-placed', { orderId: '7', total: 10 });
    // @ts-expect-error total is missing
    await bus.emit('events-test.order-placed', { orderId: 7 });
    // @ts-expect-error the event is not in the map
    await bus.emit('events-test.unknown', {});
    // @ts-expect-error the payload is required
    await bus.emit('events-test.order-placed');
    // @ts-expect-error the listener expects the wrong payload
    bus.on('events-test.order-placed', (payload: { sku: string }) => void payload);
  });

  it('makes the payload optional for undefined and void events', async () => {
    const bus = new EventBus();
    await bus.emit('events-test.ready');
    await bus.emit('events-test.ready', undefined);
    const local = new EventBus<Local>();
    await local.emit('tick');
    // @ts-expect-error a void event takes no object payload
    await local.emit('tick', { at: 1 });
    expect(local.hasListeners('tick')).toBe(false);
  });

  it('types an explicitly given map', () => {
    const bus = new EventBus<Local>();
    bus.on('user.deleted', ({ hard }) => {
      expectTypeOf(hard).toBeBoolean();
    });
    bus.once('user.created', ({ id }) => {
      expectTypeOf(id).toBeString();
    });
    expectTypeOf(bus.emit<'user.created'>)
      .parameter(1)
      .toEqualTypeOf<{ id: string }>();
    // @ts-expect-error user.created has no "hard"
    bus.on('user.created', ({ hard }) => void hard);
    // @ts-expect-error events of the global map are not in Local
    bus.on('events-test.order-placed', () => {});
    // @ts-expect-error off() checks the listener's payload too
    bus.off('user.created', (p: { id: number }) => void p);
    expectTypeOf(bus.listeners()).toEqualTypeOf<ListenerInfo[]>();
  });

  it('narrows wildcard envelopes on the event name', () => {
    const bus = new EventBus<Local>();
    bus.onAny((emitted) => {
      expectTypeOf(emitted).toEqualTypeOf<EmittedEvent<Local>>();
      if (emitted.event === 'user.deleted') expectTypeOf(emitted.payload.hard).toBeBoolean();
    });
  });

  it('types defineListeners and fake assertions', () => {
    defineListeners<Local>({
      'user.created': (payload) => {
        expectTypeOf(payload).toEqualTypeOf<{ id: string }>();
      },
      'user.deleted': [
        {
          handle: (payload) => {
            expectTypeOf(payload.hard).toBeBoolean();
          },
          priority: 5,
        },
        () => {},
      ],
    });
    defineListeners({
      'events-test.order-placed': ({ total }) => {
        expectTypeOf(total).toBeNumber();
      },
    });
    defineListeners<Local>({
      // @ts-expect-error not an event of Local
      'user.renamed': () => {},
    });
    defineListeners<Local>({
      // @ts-expect-error wrong payload type for the event
      'user.created': (payload: { id: number }) => void payload,
    });

    const fake = new EventBus<Local>().fake();
    expectTypeOf(fake.emitted('user.deleted')).toEqualTypeOf<{ id: string; hard: boolean }[]>();
    fake.assertNotEmitted('user.deleted', (p) => p.hard);
    // @ts-expect-error predicate sees the event's payload
    fake.assertNotEmitted('user.created', (p) => p.hard);
    // @ts-expect-error only names events of the map
    new EventBus<Local>().fake({ only: ['nope'] });
  });
});
