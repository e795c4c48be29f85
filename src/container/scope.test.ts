import { describe, expect, it } from 'vitest';
import { Container } from './container.js';
import { E_DISPOSE_FAILED, E_SCOPE_DISPOSED, E_SCOPE_REQUIRED } from './errors.js';

class UnitOfWork {
  static created = 0;
  readonly id = ++UnitOfWork.created;
  disposed = false;
  async [Symbol.asyncDispose](): Promise<void> {
    this.disposed = true;
  }
}

describe('scopes', () => {
  it('caches a scoped binding per scope and isolates two scopes', () => {
    const c = new Container().scoped(UnitOfWork);
    const one = c.createScope('request-1');
    const two = c.createScope('request-2');
    const a = one.make(UnitOfWork);
    expect(one.make(UnitOfWork)).toBe(a);
    const b = two.make(UnitOfWork);
    expect(b).not.toBe(a);
    expect(two.make(UnitOfWork)).toBe(b);
    expect(one.label).toBe('request-1');
    expect(one.isScope).toBe(true);
    expect(c.isScope).toBe(false);
    expect(c.label).toBe('root');
  });

  it('shares singletons and values with the root', () => {
    const c = new Container().singleton('clock', () => ({})).value('config', { a: 1 });
    const scope = c.createScope();
    expect(scope.make('clock')).toBe(c.make('clock'));
    expect(scope.make('config')).toBe(c.make('config'));
  });

  it('keeps bindings made on a scope to that scope', () => {
    const c = new Container();
    const one = c.createScope();
    const two = c.createScope();
    one.value('request', { path: '/a' });
    two.value('request', { path: '/b' });
    expect(one.make('request')).toEqual({ path: '/a' });
    expect(two.make('request')).toEqual({ path: '/b' });
    expect(c.bound('request')).toBe(false);
  });

  it('gives scoped factories the scope, so they see scope-local bindings', () => {
    const c = new Container().scoped('user', (k) => ({ name: k.make('request') as string }));
    const scope = c.createScope();
    scope.value('request', 'ada');
    expect(scope.make('user')).toEqual({ name: 'ada' });
  });

  it('throws E_SCOPE_REQUIRED for a scoped key resolved from the root', () => {
    const c = new Container().scoped(UnitOfWork);
    expect(() => c.make(UnitOfWork)).toThrow(E_SCOPE_REQUIRED);
    expect(() => c.make(UnitOfWork)).toThrow(
      '"UnitOfWork" is scoped and can only be resolved inside a scope',
    );
  });

  it('stops a singleton from capturing a scoped instance, even when asked from a scope', () => {
    class Cache {
      static inject = [UnitOfWork];
      constructor(readonly uow: UnitOfWork) {}
    }
    const c = new Container().scoped(UnitOfWork).singleton(Cache);
    const scope = c.createScope();
    expect(() => scope.make(Cache)).toThrow('(needed by Cache, resolved from the root)');
  });

  it('resolves scoped bindings in nested scopes per innermost scope', () => {
    const c = new Container().scoped(UnitOfWork);
    const outer = c.createScope('outer');
    const inner = outer.createScope('inner');
    expect(inner.make(UnitOfWork)).not.toBe(outer.make(UnitOfWork));
    expect(inner.make(UnitOfWork)).toBe(inner.make(UnitOfWork));
  });

  it('builds a scoped async factory once per scope', async () => {
    let calls = 0;
    const c = new Container().scoped('conn', async () => {
      calls++;
      return { n: calls };
    });
    const scope = c.createScope();
    const [a, b] = await Promise.all([scope.makeAsync('conn'), scope.makeAsync('conn')]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });
});

describe('scope disposal', () => {
  it('disposes scoped instances newest first, with each kind of disposer', async () => {
    const order: string[] = [];
    const c = new Container()
      .scoped('async', () => ({
        async [Symbol.asyncDispose]() {
          order.push('async');
        },
      }))
      .scoped('sync', () => ({
        [Symbol.dispose]() {
          order.push('sync');
        },
      }))
      .scoped('method', () => ({
        dispose: async () => {
          order.push('method');
        },
      }))
      .scoped('plain', () => ({ nothing: true }))
      .scoped('primitive', () => 7);
    const scope = c.createScope();
    for (const key of ['async', 'sync', 'method', 'plain', 'primitive']) scope.make(key);
    await scope.dispose();
    expect(order).toEqual(['method', 'sync', 'async']);
  });

  it('does not dispose values, transients or root singletons', async () => {
    const disposed: string[] = [];
    const disposable = (name: string) => ({
      dispose: () => {
        disposed.push(name);
      },
    });
    const c = new Container()
      .singleton('single', () => disposable('single'))
      .bind('transient', () => disposable('transient'));
    const scope = c.createScope();
    scope.value('value', disposable('value'));
    scope.make('single');
    scope.make('transient');
    scope.make('value');
    await scope.dispose();
    expect(disposed).toEqual([]);
    await c.dispose();
    expect(disposed).toEqual(['single']);
  });

  it('supports await using, and refuses use after disposal', async () => {
    const c = new Container().scoped(UnitOfWork);
    let uow: UnitOfWork;
    let scope: Container;
    {
      await using s = c.createScope('job');
      scope = s;
      uow = s.make(UnitOfWork);
    }
    expect(uow.disposed).toBe(true);
    expect(() => scope.make(UnitOfWork)).toThrow(E_SCOPE_DISPOSED);
    expect(() => scope.make(UnitOfWork)).toThrow('Container scope "job" is disposed');
    expect(() => scope.value('x', 1)).toThrow(E_SCOPE_DISPOSED);
    expect(() => scope.createScope()).toThrow(E_SCOPE_DISPOSED);
    await expect(scope.makeAsync(UnitOfWork)).rejects.toThrow(E_SCOPE_DISPOSED);
    await scope.dispose(); // a second dispose is a no-op
    // The root is untouched.
    expect(c.createScope().make(UnitOfWork)).toBeInstanceOf(UnitOfWork);
  });

  it('waits for a pending async scoped factory, then disposes its instance', async () => {
    let release!: () => void;
    const ready = new Promise<void>((r) => {
      release = r;
    });
    const c = new Container().scoped(UnitOfWork, async () => {
      await ready;
      return new UnitOfWork();
    });
    const scope = c.createScope();
    const pending = scope.makeAsync(UnitOfWork);
    const disposing = scope.dispose();
    release();
    const uow = await pending;
    await disposing;
    expect(uow.disposed).toBe(true);
  });

  it('runs every disposer and reports all failures together', async () => {
    const ran: string[] = [];
    const c = new Container()
      .scoped('a', () => ({
        dispose() {
          ran.push('a');
          throw new Error('a failed');
        },
      }))
      .scoped('b', () => ({
        async dispose() {
          ran.push('b');
          throw new Error('b failed');
        },
      }))
      .scoped('c', () => ({ dispose: () => ran.push('c') }));
    const scope = c.createScope('request');
    for (const key of ['a', 'b', 'c']) scope.make(key);
    const error = await scope.dispose().catch((e: unknown) => e);
    expect(ran).toEqual(['c', 'b', 'a']);
    expect(E_DISPOSE_FAILED.is(error)).toBe(true);
    expect((error as Error).message).toBe('2 disposers failed while disposing "request"');
    const cause = (error as Error).cause as AggregateError;
    expect(cause.errors.map((e: Error) => e.message)).toEqual(['b failed', 'a failed']);
  });

  it('disposes an instance shared by two keys once', async () => {
    let count = 0;
    const shared = { dispose: () => count++ };
    const c = new Container().scoped('a', () => shared).scoped('b', () => shared);
    const scope = c.createScope();
    scope.make('a');
    scope.make('b');
    await scope.dispose();
    expect(count).toBe(1);
  });
});
