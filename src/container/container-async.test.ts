import { describe, expect, it } from 'vitest';
import { Container } from './container.js';
import { E_ASYNC_BINDING, E_ASYNC_DEFERRED_PROVIDER, E_CIRCULAR_DEPENDENCY } from './errors.js';

/** A promise with its resolve/reject, to control when an async factory finishes. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class Database {
  constructor(readonly url: string) {}
}

describe('makeAsync', () => {
  it('runs an async singleton factory once under concurrent calls', async () => {
    const c = new Container();
    const gate = deferred<void>();
    let calls = 0;
    c.singleton('test.db', async () => {
      calls++;
      await gate.promise;
      return new Database('sqlite://');
    });
    const all = Promise.all([
      c.makeAsync('test.db'),
      c.makeAsync('test.db'),
      c.makeAsync('test.db'),
    ]);
    gate.resolve();
    const [a, b, d] = await all;
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(d);
    // Once settled, make() returns the cached instance synchronously.
    expect(c.make('test.db')).toBe(a);
  });

  it('clears a rejected async singleton so the next call retries', async () => {
    const c = new Container();
    let calls = 0;
    c.singleton('test.db', async () => {
      calls++;
      if (calls === 1) throw new Error('connection refused');
      return new Database('ok');
    });
    const results = await Promise.allSettled([c.makeAsync('test.db'), c.makeAsync('test.db')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    const db = (await c.makeAsync('test.db')) as Database;
    expect(db.url).toBe('ok');
    expect(calls).toBe(2);
  });

  it('shares one run between make() (which throws) and a later makeAsync()', async () => {
    const c = new Container();
    let calls = 0;
    c.singleton('test.db', async () => {
      calls++;
      return new Database('x');
    });
    expect(() => c.make('test.db')).toThrow(E_ASYNC_BINDING);
    expect(() => c.make('test.db')).toThrow(/use makeAsync/);
    await c.makeAsync('test.db');
    expect(calls).toBe(1);
  });

  it('does not leak an unhandled rejection from make() on a failing async factory', async () => {
    const c = new Container().bind('x', async () => {
      throw new Error('late');
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(() => c.make('x')).toThrow(E_ASYNC_BINDING);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('awaits async dependencies of a class', async () => {
    class Repo {
      static inject = ['test.db', 'table'];
      constructor(
        readonly db: Database,
        readonly table: string,
      ) {}
    }
    const c = new Container()
      .singleton('test.db', async () => new Database('pg://'))
      .value('table', 'users');
    const repo = await c.makeAsync(Repo);
    expect(repo.db).toBeInstanceOf(Database);
    expect(repo.table).toBe('users');
  });

  it('tells make() which dependency is async', () => {
    class Repo {
      static inject = ['test.db'];
      constructor(readonly db: Database) {}
    }
    const c = new Container().singleton('test.db', async () => new Database('pg://'));
    expect(() => c.make(Repo)).toThrow('"test.db" has an async factory and is not resolved yet');
    expect(() => c.make(Repo)).toThrow('(needed by Repo)');
  });

  it('awaits a value that is a promise', async () => {
    const c = new Container().value('answer', Promise.resolve(42));
    expect(await c.makeAsync('answer')).toBe(42);
  });

  it('detects a cycle between async factories instead of deadlocking', async () => {
    const c = new Container();
    c.singleton('a', async (k) => {
      await Promise.resolve();
      return { b: await k.makeAsync('b') };
    });
    c.singleton('b', async (k) => {
      await Promise.resolve();
      return { a: await k.makeAsync('a') };
    });
    const error = await c.makeAsync('a').catch((e: unknown) => e);
    expect(E_CIRCULAR_DEPENDENCY.is(error)).toBe(true);
    expect((error as Error).message).toBe('Circular dependency: a → b → a');
  });

  it('detects a cycle when an async factory calls make() synchronously', async () => {
    const c = new Container();
    c.singleton('a', async (k) => {
      await Promise.resolve();
      return k.make('b');
    });
    c.bind('b', (k) => k.make('a'));
    await expect(c.makeAsync('a')).rejects.toThrow('Circular dependency: a → b → a');
  });

  it('keeps concurrent chains apart: the same key in two chains is no cycle', async () => {
    const c = new Container();
    const gate = deferred<void>();
    c.bind('shared', async () => {
      await gate.promise;
      return 's';
    });
    c.bind('left', async (k) => `L${await k.makeAsync('shared')}`);
    c.bind('right', async (k) => `R${await k.makeAsync('shared')}`);
    const both = Promise.all([c.makeAsync('left'), c.makeAsync('right')]);
    gate.resolve();
    expect(await both).toEqual(['Ls', 'Rs']);
  });

  it('forgets a finished chain: work started by a factory may resolve the key later', async () => {
    const c = new Container();
    let later: Promise<unknown> | undefined;
    c.bind('ticker', async (k) => {
      later = new Promise((r) => setTimeout(r, 1)).then(() => k.makeAsync('ticker'));
      return 'tick';
    });
    await c.makeAsync('ticker');
    // The timer callback inherits the factory's async context; it must not see a cycle.
    await expect(later).resolves.toBe('tick');
  });

  it('calls functions with async dependencies through callAsync', async () => {
    const c = new Container().singleton('test.db', async () => new Database('pg://'));
    const handler = Object.assign(async (db: Database, id: string) => `${db.url}/${id}`, {
      inject: ['test.db'],
    });
    expect(await c.callAsync(handler, ['7'])).toBe('pg:///7');
  });
});

describe('missing resolver', () => {
  it('asks the resolver for an unbound key and uses what it bound', () => {
    const c = new Container();
    const asked: unknown[] = [];
    c.setMissingResolver((key) => {
      asked.push(key);
      if (key !== 'lazy') return false;
      c.value('lazy', 'made');
      return true;
    });
    expect(c.make('lazy')).toBe('made');
    expect(c.make('lazy')).toBe('made');
    expect(asked).toEqual(['lazy']);
    expect(() => c.make('other')).toThrow('No binding for "other"');
  });

  it('skips the resolver when has() says no, and uses keys() for suggestions', () => {
    const c = new Container();
    let asked = 0;
    c.setMissingResolver(
      () => {
        asked++;
        return false;
      },
      { has: (key) => key === 'mailer', keys: () => ['mailer'] },
    );
    expect(c.bound('mailer')).toBe(true);
    expect(() => c.make('mailr')).toThrow('Did you mean "mailer"?');
    expect(asked).toBe(0);
  });

  it('gates keys bound by an async activation until it settles', async () => {
    const c = new Container();
    const boot = deferred<void>();
    c.setMissingResolver((key) => {
      if (key !== 'a' && key !== 'b') return false;
      c.value('a', 'A');
      c.value('b', 'B');
      return boot.promise.then(() => true);
    });
    expect(() => c.make('a')).toThrow(E_ASYNC_DEFERRED_PROVIDER);
    // 'b' is bound already, but its provider has not finished booting.
    expect(() => c.make('b')).toThrow('use makeAsync("b")');
    const pending = c.makeAsync('b');
    boot.resolve();
    expect(await pending).toBe('B');
    expect(c.make('a')).toBe('A');
  });

  it('lets the activation itself resolve its own gated keys', async () => {
    const c = new Container();
    let inside: unknown;
    c.setMissingResolver((key) => {
      if (key !== 'svc') return false;
      c.value('svc', 'S');
      return (async () => {
        await Promise.resolve();
        inside = c.make('svc');
        await c.makeAsync('svc');
        return true;
      })();
    });
    expect(await c.makeAsync('svc')).toBe('S');
    expect(inside).toBe('S');
  });

  it('keeps reporting a failed activation', async () => {
    const c = new Container();
    const failure = new Error('boot failed');
    c.setMissingResolver((key) => {
      if (key !== 'svc') return false;
      c.value('svc', 'S');
      return Promise.reject(failure);
    });
    await expect(c.makeAsync('svc')).rejects.toBe(failure);
    expect(() => c.make('svc')).toThrow(failure);
    await expect(c.makeAsync('svc')).rejects.toBe(failure);
  });

  it('keeps reporting a resolver that threw', () => {
    const c = new Container();
    const failure = new Error('register failed');
    c.setMissingResolver(() => {
      c.value('svc', 'half');
      throw failure;
    });
    expect(() => c.make('svc')).toThrow(failure);
    expect(() => c.make('svc')).toThrow(failure);
  });

  it('falls back to constructing a class the resolver does not know', async () => {
    class Plain {}
    const c = new Container();
    c.setMissingResolver(() => false);
    expect(c.make(Plain)).toBeInstanceOf(Plain);
    expect(await c.makeAsync(Plain)).toBeInstanceOf(Plain);
  });
});
