import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { executionContext } from './execution-context.js';

describe('executionContext', () => {
  it('keeps a scope through awaits and timers, and none outside', async () => {
    expect(executionContext.current()).toBeUndefined();
    const seen = await executionContext.run({ request_id: 'r1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      executionContext.setUser(7);
      executionContext.annotate({ tenant: 'acme' });
      executionContext.annotate({ order_id: 3 });
      return { ...executionContext.current() };
    });
    expect(seen).toEqual({
      request_id: 'r1',
      user_id: 7,
      fields: { tenant: 'acme', order_id: 3 },
    });
    // Outside a scope the setters do nothing (and do not throw).
    executionContext.setUser(1);
    executionContext.annotate({ x: 1 });
    expect(executionContext.current()).toBeUndefined();
  });

  it('carries the request id and propagators across a boundary', () => {
    const slot = Symbol('test');
    const remove = executionContext.addPropagator({
      inject: (scope, carrier) => {
        const value = scope.slots?.[slot];
        if (typeof value === 'string') carrier.traceparent = value;
      },
      extract: (carrier, scope) => {
        if (carrier.traceparent) scope.slots = { [slot]: carrier.traceparent };
      },
    });
    try {
      const carrier = executionContext.run({ request_id: 'r2', slots: { [slot]: 'tp' } }, () =>
        executionContext.capture(),
      );
      expect(carrier).toEqual({ requestId: 'r2', traceparent: 'tp' });
      const restored = executionContext.restore(carrier, { job_id: 'j1' });
      expect(restored).toMatchObject({ request_id: 'r2', job_id: 'j1' });
      expect(executionContext.run(restored, () => executionContext.slot(slot))).toBe('tp');
    } finally {
      remove();
    }
    expect(executionContext.run({ request_id: 'r3' }, () => executionContext.capture())).toEqual({
      requestId: 'r3',
    });
    expect(executionContext.capture()).toEqual({});
    // Hostile carriers: only strings are taken.
    expect(executionContext.restore({ requestId: 42 } as never)).toEqual({});
  });

  it('is one per process, even when a second copy of the module is loaded', async () => {
    // The demo app's code runs from sources (tsx) while the CLI runs dist/: two copies.
    const url = `${pathToFileURL(new URL('./execution-context.ts', import.meta.url).pathname).href}?copy=2`;
    const copy = (await import(/* @vite-ignore */ url)) as typeof import('./execution-context.js');
    expect(copy.executionContext).not.toBe(executionContext);
    const seen = executionContext.run({ request_id: 'shared' }, () => {
      copy.executionContext.annotate({ from: 'copy' });
      return { ...copy.executionContext.current() };
    });
    expect(seen).toEqual({ request_id: 'shared', fields: { from: 'copy' } });
    expect(
      copy.executionContext.run({ request_id: 'c' }, () => executionContext.capture()),
    ).toEqual({ requestId: 'c' });
  });
});
