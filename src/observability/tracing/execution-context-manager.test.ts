import { EventEmitter } from 'node:events';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { executionContext } from '../../kernel/index.js';
import {
  activateInScope,
  ExecutionContextManager,
  OTEL_CONTEXT_SLOT,
  scopeContext,
} from './execution-context-manager.js';

const KEY = createContextKey('test key');

function manager(): ExecutionContextManager {
  return new ExecutionContextManager(ROOT_CONTEXT).enable();
}

describe('ExecutionContextManager', () => {
  it('is the root context outside any scope, and the scope slot inside one', () => {
    const m = manager();
    expect(m.active()).toBe(ROOT_CONTEXT);
    const ctx = ROOT_CONTEXT.setValue(KEY, 'request');
    executionContext.run({ request_id: 'r1' }, () => {
      activateInScope(executionContext.current()!, ctx);
      expect(m.active()).toBe(ctx);
      expect(scopeContext(executionContext.current())).toBe(ctx);
    });
  });

  it('with() runs in a derived scope: same ids and fields, its own context, parent untouched', async () => {
    const m = manager();
    const outer = ROOT_CONTEXT.setValue(KEY, 'outer');
    const inner = outer.setValue(KEY, 'inner');
    await executionContext.run({ request_id: 'r2', fields: { tenant: 't1' } }, async () => {
      const scope = executionContext.current()!;
      activateInScope(scope, outer);
      const seen = await m.with(
        inner,
        async (a: number, b: number) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const current = executionContext.current()!;
          return {
            sum: a + b,
            request: current.request_id,
            tenant: current.fields?.tenant,
            value: m.active().getValue(KEY),
            sameScope: current === scope,
          };
        },
        undefined,
        2,
        3,
      );
      expect(seen).toEqual({
        sum: 5,
        request: 'r2',
        tenant: 't1',
        value: 'inner',
        sameScope: false,
      });
      // The request's own scope still holds its context: a nested span never leaks out.
      expect(m.active().getValue(KEY)).toBe('outer');
      expect(scope.slots?.[OTEL_CONTEXT_SLOT]).toBe(outer);
    });
  });

  it('with() outside any scope opens one that holds only the context', () => {
    const m = manager();
    const ctx = ROOT_CONTEXT.setValue(KEY, 'alone');
    const seen = m.with(ctx, () => ({
      value: m.active().getValue(KEY),
      id: executionContext.current()?.request_id,
    }));
    expect(seen).toEqual({ value: 'alone', id: undefined });
    expect(executionContext.current()).toBeUndefined();
  });

  it('concurrent with() calls keep their own contexts through awaits', async () => {
    const m = manager();
    const run = (name: string, delay: number) =>
      m.with(ROOT_CONTEXT.setValue(KEY, name), async () => {
        await new Promise((resolve) => setTimeout(resolve, delay));
        return m.active().getValue(KEY);
      });
    expect(await Promise.all([run('a', 5), run('b', 1), run('c', 3)])).toEqual(['a', 'b', 'c']);
  });

  it('bind() ties a function, and the listeners of an emitter, to a context', () => {
    const m = manager();
    const ctx = ROOT_CONTEXT.setValue(KEY, 'bound');
    const fn = m.bind(ctx, function (this: { n: number }, add: number) {
      return `${String(m.active().getValue(KEY))}:${this.n + add}`;
    });
    expect(fn.call({ n: 1 }, 2)).toBe('bound:3');

    const emitter = m.bind(ctx, new EventEmitter());
    const seen: unknown[] = [];
    const listener = () => seen.push(m.active().getValue(KEY));
    emitter.on('ping', listener);
    emitter.emit('ping');
    emitter.removeListener('ping', listener);
    emitter.emit('ping');
    expect(seen).toEqual(['bound']);
    expect(emitter.listenerCount('ping')).toBe(0);
    expect(m.bind(ctx, 42)).toBe(42);
  });

  it('disabled, it is inert: the root context, and with() just calls the function', () => {
    const m = manager().disable();
    const ctx = ROOT_CONTEXT.setValue(KEY, 'x');
    expect(m.with(ctx, () => m.active())).toBe(ROOT_CONTEXT);
    expect(m.with(ctx, () => executionContext.current())).toBeUndefined();
  });
});
