import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { AsyncSlot } from './async-slot.js';

describe('AsyncSlot', () => {
  it('carries its value through awaits, timers, nextTick and events started inside run()', async () => {
    const slot = new AsyncSlot<string>();
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    await slot.run('a', async () => {
      await sleep(1);
      seen.push(slot.get());
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(slot.get());
          resolve();
        }, 1),
      );
      await new Promise<void>((resolve) =>
        process.nextTick(() => {
          seen.push(slot.get());
          resolve();
        }),
      );
      // An event emitted from a context that has the slot runs its listeners there.
      emitter.on('ping', () => seen.push(slot.get()));
      emitter.emit('ping');
    });
    expect(seen).toEqual(['a', 'a', 'a', 'a']);
    expect(slot.get()).toBeUndefined();
  });

  it('keeps each slot to itself: setting one leaves the others as they were', async () => {
    const tenant = new AsyncSlot<string>();
    const user = new AsyncSlot<number>();
    await tenant.run('acme', async () => {
      expect(user.get()).toBeUndefined();
      await user.run(7, async () => {
        await sleep(1);
        expect([tenant.get(), user.get()]).toEqual(['acme', 7]);
        await tenant.run('globex', async () => {
          await sleep(1);
          expect([tenant.get(), user.get()]).toEqual(['globex', 7]);
        });
        expect([tenant.get(), user.get()]).toEqual(['acme', 7]);
      });
      expect([tenant.get(), user.get()]).toEqual(['acme', undefined]);
    });
  });

  it('hides an outer value when run with undefined, and restores it after a throw', () => {
    const slot = new AsyncSlot<string | undefined>();
    slot.run('outer', () => {
      slot.run(undefined, () => expect(slot.get()).toBeUndefined());
      expect(() =>
        slot.run('inner', () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(slot.get()).toBe('outer');
    });
  });

  it('keeps concurrent runs apart', async () => {
    const slot = new AsyncSlot<number>();
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        slot.run(n, async () => {
          await sleep(5 - n);
          return slot.get();
        }),
      ),
    );
    expect(results).toEqual([1, 2, 3, 4]);
  });

  it('holds one value per slot however many rounds a loop starts from inside the last', async () => {
    // Each round starts the next from inside its own run: the context must not keep every
    // earlier round's value (a chain that would grow with the loop).
    const slot = new AsyncSlot<{ round: number }>();
    const other = new AsyncSlot<string>();
    const storage = (globalThis as Record<symbol, { getStore(): unknown[] | undefined }>)[
      Symbol.for('keel.async-slots')
    ]!;
    let last: { round: number } | undefined;
    let pairs = 0;
    await new Promise<void>((resolve) => {
      const round = (n: number): void => {
        slot.run({ round: n }, () =>
          other.run(`r${n}`, () => {
            last = slot.get();
            pairs = storage.getStore()!.length / 2;
            if (n === 200) resolve();
            else setImmediate(() => round(n + 1));
          }),
        );
      };
      round(0);
    });
    expect(last).toEqual({ round: 200 });
    expect(pairs).toBe(2);
  });

  it('is shared by every copy of the module in the process', async () => {
    vi.resetModules();
    const copy: typeof import('./async-slot.js') = await import('./async-slot.js');
    expect(copy.AsyncSlot).not.toBe(AsyncSlot);
    const here = new AsyncSlot<string>();
    const there = new copy.AsyncSlot<string>();
    here.run('h', () =>
      there.run('t', () => {
        expect([here.get(), there.get()]).toEqual(['h', 't']);
      }),
    );
  });
});
