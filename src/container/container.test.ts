import { describe, expect, expectTypeOf, it } from 'vitest';
import { Container } from './container.js';
import {
  E_ALIAS_CYCLE,
  E_ASYNC_BINDING,
  E_BINDING_NOT_FOUND,
  E_CANNOT_RESOLVE_CLASS,
  E_CIRCULAR_DEPENDENCY,
  E_INVALID_BINDING,
  E_INVALID_INJECT,
} from './errors.js';
import { type BindingKey, isToken, type Token, token } from './token.js';

class Clock {
  now(): number {
    return 42;
  }
}

class Greeter {
  static inject = ['test.greeting', Clock];
  constructor(
    readonly greeting: string,
    readonly clock: Clock,
  ) {}
}

// Keys prefixed `test.` so this augmentation cannot collide with the framework's own keys.
declare module './container.js' {
  interface ContainerBindings {
    'test.greeting': string;
    'test.clock': Clock;
  }
}

function expectCode(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (error) {
    expect((error as { code?: string }).code).toBe(code);
    return error as Error;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('Container bindings', () => {
  it('runs a transient factory on every resolution', () => {
    const c = new Container();
    let calls = 0;
    c.bind('test.clock', () => {
      calls++;
      return new Clock();
    });
    expect(c.make('test.clock')).not.toBe(c.make('test.clock'));
    expect(calls).toBe(2);
  });

  it('builds a singleton once and passes the container to the factory', () => {
    const c = new Container();
    let seen: Container | undefined;
    c.singleton('test.clock', (container) => {
      seen = container;
      return new Clock();
    });
    expect(c.make('test.clock')).toBe(c.make('test.clock'));
    expect(seen).toBe(c);
  });

  it('returns values as they are', () => {
    const c = new Container();
    const config = { port: 3000 };
    c.value('config', config);
    expect(c.make('config')).toBe(config);
  });

  it('constructs a class singleton from its static inject list', () => {
    const c = new Container();
    c.value('test.greeting', 'hello');
    c.singleton(Greeter);
    const greeter = c.make(Greeter);
    expect(greeter.greeting).toBe('hello');
    expect(greeter.clock).toBeInstanceOf(Clock);
    expect(c.make(Greeter)).toBe(greeter);
  });

  it('auto-constructs an unbound class without dependencies, as a transient', () => {
    const c = new Container();
    expect(c.make(Clock)).toBeInstanceOf(Clock);
    expect(c.make(Clock)).not.toBe(c.make(Clock));
    expect(c.bound(Clock)).toBe(false);
  });

  it('inherits the parent inject list, and lets a subclass override it', () => {
    class Base {
      static inject = ['test.greeting'];
      constructor(readonly greeting: string) {}
    }
    class Child extends Base {}
    class Other extends Base {
      static override inject = ['other'];
    }
    const c = new Container().value('test.greeting', 'hi').value('other', 'o');
    expect(c.make(Child).greeting).toBe('hi');
    expect(c.make(Other).greeting).toBe('o');
  });

  it('keys by token identity, not description', () => {
    const a = token<number>('n');
    const b = token<number>('n');
    const c = new Container().value(a, 1).value(b, 2);
    expect(c.make(a)).toBe(1);
    expect(c.make(b)).toBe(2);
    expect(isToken(a)).toBe(true);
    expect(String(a)).toBe('Token(n)');
    expect(() => token('')).toThrow(TypeError);
  });

  it('accepts symbol keys', () => {
    const key = Symbol('sym');
    const c = new Container().value(key, 'x');
    expect(c.make(key)).toBe('x');
    expect(c.bound(key)).toBe(true);
  });

  it('replaces a binding registered twice and drops the old singleton', () => {
    const c = new Container();
    c.singleton('test.clock', () => new Clock());
    const first = c.make('test.clock');
    c.singleton('test.clock', () => new Clock());
    expect(c.make('test.clock')).not.toBe(first);
  });

  it('reports what is bound', () => {
    const c = new Container().value('a', 1).alias('b', 'a');
    expect(c.bound('a')).toBe(true);
    expect(c.bound('b')).toBe(true);
    expect(c.bound('nope')).toBe(false);
    expect(c.bound(42 as unknown as string)).toBe(false);
  });
});

describe('Container aliases', () => {
  it('follows alias chains to the same singleton', () => {
    const c = new Container();
    c.singleton(Clock);
    c.alias('clock', Clock).alias('time', 'clock').alias('now', 'time');
    expect(c.make('now')).toBe(c.make(Clock));
    expect(c.make('clock')).toBe(c.make(Clock));
  });

  it('refuses alias cycles, including self-aliases', () => {
    const c = new Container().alias('a', 'b').alias('b', 'c');
    const error = expectCode(() => c.alias('c', 'a'), E_ALIAS_CYCLE.code);
    expect(error.message).toBe('Alias cycle: c → a → b → c');
    expectCode(() => c.alias('x', 'x'), E_ALIAS_CYCLE.code);
  });

  it('detects a cycle closed through a scope', () => {
    const c = new Container().alias('a', 'b');
    const scope = c.createScope();
    scope.alias('b', 'c');
    c.alias('c', 'a'); // from the root alone there is no cycle: 'b' is unbound there
    expectCode(() => scope.make('a'), E_ALIAS_CYCLE.code);
  });

  it('lets a class alias a key, and rejects invalid keys', () => {
    const clock = new Clock();
    const c = new Container().value('clock', clock).alias(Clock, 'clock');
    expect(c.make(Clock)).toBe(clock);
    expectCode(() => c.alias(null as unknown as string, 'x'), E_INVALID_BINDING.code);
    expectCode(() => c.alias('x', null as unknown as string), E_INVALID_BINDING.code);
  });

  it('lets a later binding win over an alias and the other way round', () => {
    const c = new Container().value('real', 1).alias('name', 'real');
    c.value('name', 2);
    expect(c.make('name')).toBe(2);
    c.alias('name', 'real');
    expect(c.make('name')).toBe(1);
  });

  it('reports a missing alias target by its own name', () => {
    const c = new Container().alias('db', 'database');
    const error = expectCode(() => c.make('db'), E_BINDING_NOT_FOUND.code);
    expect(error.message).toContain('"database"');
  });
});

describe('Container errors', () => {
  it('suggests the nearest key for a typo', () => {
    const c = new Container().value('config', {}).value('router', {});
    const error = expectCode(() => c.make('confg'), E_BINDING_NOT_FOUND.code);
    expect(error.message).toBe('No binding for "confg". Did you mean "config"?');
  });

  it('does not suggest far-away keys', () => {
    const c = new Container().value('config', {});
    const error = expectCode(() => c.make('mailer'), E_BINDING_NOT_FOUND.code);
    expect(error.message).toBe('No binding for "mailer"');
  });

  it('names the class that needed a missing key', () => {
    class NeedsConfig {
      static inject = ['confg'];
      constructor(readonly config: unknown) {}
    }
    const c = new Container().value('config', {});
    const error = expectCode(() => c.make(NeedsConfig), E_BINDING_NOT_FOUND.code);
    expect(error.message).toBe(
      'No binding for "confg" (needed by NeedsConfig). Did you mean "config"?',
    );
  });

  it('names the cycle through class inject lists', () => {
    class A {
      static inject: BindingKey[] = [];
      constructor(readonly b: unknown) {}
    }
    class B {
      static inject = [A];
      constructor(readonly a: A) {}
    }
    A.inject = [B];
    const error = expectCode(() => new Container().make(A), E_CIRCULAR_DEPENDENCY.code);
    expect(error.message).toBe('Circular dependency: A → B → A');
  });

  it('names the cycle through factories, starting at the repeated key', () => {
    const c = new Container();
    c.singleton('entry', (k) => k.make('a'));
    c.singleton('a', (k) => k.make('b'));
    c.bind('b', (k) => k.make('a'));
    const error = expectCode(() => c.make('entry'), E_CIRCULAR_DEPENDENCY.code);
    expect(error.message).toBe('Circular dependency: a → b → a');
    // The failed attempt leaves nothing half-built behind.
    c.bind('b', () => 'b');
    expect(c.make('entry')).toBe('b');
  });

  it('refuses a class with constructor parameters and no inject list', () => {
    class Service {
      constructor(readonly db: unknown) {}
    }
    const error = expectCode(() => new Container().make(Service), E_CANNOT_RESOLVE_CLASS.code);
    expect(error.message).toContain('Service');
    expect(error.message).toContain('takes 1 parameter(s) but it declares no inject list');
  });

  it('refuses an inject list shorter than the constructor', () => {
    class Service {
      static inject = ['a'];
      constructor(
        readonly a: unknown,
        readonly b: unknown,
      ) {}
    }
    const error = expectCode(() => new Container().make(Service), E_CANNOT_RESOLVE_CLASS.code);
    expect(error.message).toContain('inject lists 1');
  });

  it('refuses to construct an arrow function', () => {
    const fn = (() => 1) as unknown as new () => unknown;
    expectCode(() => new Container().make(fn), E_CANNOT_RESOLVE_CLASS.code);
  });

  it('explains an undefined inject entry as a likely circular import', () => {
    class Service {
      static inject = [undefined];
      constructor(readonly x: unknown) {}
    }
    const error = expectCode(() => new Container().make(Service), E_INVALID_INJECT.code);
    expect(error.message).toBe(
      'Invalid inject list on Service: entry 0 is undefined (a circular import?)',
    );
  });

  it('rejects an inject list that is not an array', () => {
    class Service {
      static inject = 'db';
      constructor(readonly db: unknown) {}
    }
    const error = expectCode(() => new Container().make(Service), E_INVALID_INJECT.code);
    expect(error.message).toContain('expected an array, got a string');
  });

  it('rejects invalid keys and factories', () => {
    const c = new Container();
    const bad = [null, undefined, '', 12, {}, { description: 'fake' }] as unknown as string[];
    for (const key of bad) {
      expectCode(() => c.make(key), E_INVALID_BINDING.code);
      expectCode(() => c.value(key, 1), E_INVALID_BINDING.code);
    }
    expectCode(() => c.singleton('x', undefined as never), E_INVALID_BINDING.code);
    expectCode(() => c.bind('x', 'not a function' as never), E_INVALID_BINDING.code);
    expectCode(() => c.resolving(null as unknown as string, () => {}), E_INVALID_BINDING.code);
    expectCode(() => c.swap(null as unknown as string, 1), E_INVALID_BINDING.code);
  });

  it('bounds hostile key names in messages', () => {
    const huge = 'k'.repeat(1_000_000);
    const c = new Container().value('key', 1);
    const error = expectCode(() => c.make(huge), E_BINDING_NOT_FOUND.code);
    expect(error.message.length).toBeLessThan(200);
  });

  it('keeps prototype keys as plain keys', () => {
    const c = new Container();
    expectCode(() => c.make('__proto__'), E_BINDING_NOT_FOUND.code);
    expectCode(() => c.make('constructor'), E_BINDING_NOT_FOUND.code);
    c.value('__proto__', 'safe');
    expect(c.make('__proto__')).toBe('safe');
    expect(({} as Record<string, unknown>).safe).toBeUndefined();
  });

  it('propagates a factory error unchanged', () => {
    const boom = new Error('boom');
    const c = new Container().singleton('x', () => {
      throw boom;
    });
    expect(() => c.make('x')).toThrow(boom);
  });

  it('tells make() to use makeAsync for an async factory', () => {
    const c = new Container().bind('x', async () => 1);
    const error = expectCode(() => c.make('x'), E_ASYNC_BINDING.code);
    expect(error.message).toContain('use makeAsync()');
  });
});

describe('Container swap and restore', () => {
  it('swaps a value in and restores the original singleton', () => {
    const c = new Container().singleton(Clock);
    const original = c.make(Clock);
    const fake = { now: () => 0 };
    c.swap(Clock, fake);
    expect(c.make(Clock)).toBe(fake);
    c.restore(Clock);
    expect(c.make(Clock)).toBe(original);
  });

  it('keeps the lifetime of the swapped binding for a factory', () => {
    const c = new Container().singleton('test.clock', () => new Clock());
    c.swap('test.clock', () => new Clock());
    expect(c.make('test.clock')).toBe(c.make('test.clock'));
    c.bind('t', () => new Clock()).swap('t', () => new Clock());
    expect(c.make('t')).not.toBe(c.make('t'));
  });

  it('constructs a swapped-in class from its inject list', () => {
    class FakeClock extends Clock {
      static inject = ['test.greeting'];
      constructor(readonly label: string) {
        super();
      }
    }
    const c = new Container().value('test.greeting', 'fake').singleton(Clock);
    c.swap(Clock, FakeClock);
    expect((c.make(Clock) as FakeClock).label).toBe('fake');
  });

  it('swaps through an alias and reaches scopes', () => {
    const c = new Container().value('real', 1).alias('name', 'real');
    c.swap('name', 2);
    expect(c.make('real')).toBe(2);
    expect(c.createScope().make('name')).toBe(2);
    c.restoreAll();
    expect(c.make('name')).toBe(1);
    c.restore('never-swapped').restore(42 as unknown as string);
  });

  it('swaps a key that was never bound', () => {
    const c = new Container().swap('ghost', 'boo');
    expect(c.make('ghost')).toBe('boo');
    c.restore('ghost');
    expect(c.bound('ghost')).toBe(false);
  });
});

describe('Container resolving hooks', () => {
  it('runs after each new instance, not on cache hits, and through aliases', () => {
    const c = new Container().singleton(Clock).alias('clock', Clock);
    const seen: unknown[] = [];
    c.resolving('clock', (value) => seen.push(value));
    c.resolving(Clock, (value, container) => {
      expect(container).toBe(c);
      seen.push(value);
    });
    const clock = c.make(Clock);
    c.make('clock');
    expect(seen).toEqual([clock, clock]);
  });

  it('does not run for values', () => {
    const c = new Container().value('v', 1);
    let calls = 0;
    c.resolving('v', () => calls++);
    c.make('v');
    expect(calls).toBe(0);
  });
});

describe('Container describe', () => {
  it('lists bindings and aliases, sorted, serialisable', () => {
    const t = token<number>('tok');
    const c = new Container()
      .singleton(Clock)
      .value('config', {})
      .bind('b', () => 1)
      .scoped(t, () => 1)
      .alias('clock', Clock)
      .alias('ghost', 'nowhere')
      .value(Symbol('s'), 1);
    c.swap('config', 2);
    const described = c.describe();
    expect(described).toEqual([
      { key: 'Clock', lifetime: 'singleton' },
      { key: 'Symbol(s)', lifetime: 'value' },
      { key: 'Token(tok)', lifetime: 'scoped' },
      { key: 'b', lifetime: 'transient' },
      { key: 'clock', lifetime: 'singleton', alias: 'Clock' },
      { key: 'config', lifetime: 'value' },
      { key: 'ghost', lifetime: 'transient', alias: 'nowhere' },
    ]);
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });

  it('includes a scope’s own bindings over its parent’s', () => {
    const c = new Container().singleton('x', () => 1);
    const scope = c.createScope();
    scope.value('x', 2).value('request', {});
    expect(scope.describe()).toEqual([
      { key: 'request', lifetime: 'value' },
      { key: 'x', lifetime: 'value' },
    ]);
  });
});

describe('Container types', () => {
  it('types make() from ContainerBindings, tokens and classes', () => {
    const map = token<Map<string, number>>('m');
    const later = token<Promise<number>>('p');
    const c = new Container()
      .value('test.greeting', 'hi')
      .singleton('test.clock', () => new Clock())
      .value('anything.else', 1)
      .value(map, new Map())
      .value(later, Promise.resolve(1));
    expectTypeOf(c.make('test.greeting')).toEqualTypeOf<string>();
    expectTypeOf(c.make('test.clock')).toEqualTypeOf<Clock>();
    expectTypeOf(c.make(Clock)).toEqualTypeOf<Clock>();
    expectTypeOf(c.make(map)).toEqualTypeOf<Map<string, number>>();
    expectTypeOf(c.make('anything.else')).toEqualTypeOf<unknown>();
    expectTypeOf(c.makeAsync('test.clock')).toEqualTypeOf<Promise<Clock>>();
    expectTypeOf(c.makeAsync(later)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(token<number>('n')).toEqualTypeOf<Token<number>>();
  });

  it('checks registrations of typed keys', () => {
    const c = new Container();
    c.value('test.greeting', 'hi');
    c.singleton('test.clock', async () => new Clock());
    // @ts-expect-error a typed key only takes its type
    c.value('test.greeting', 42);
    // @ts-expect-error a typed key's factory must return its type
    c.bind('test.clock', () => 'not a clock');
    c.value('untyped', 42);
    // @ts-expect-error a token's value must match its type
    c.value(token<number>('n'), 'one');
  });

  it('types call() from the function and the method', () => {
    const c = new Container().value('test.greeting', 'hi');
    const fn = Object.assign((greeting: string, n: number) => `${greeting} ${n}`, {
      inject: ['test.greeting'],
    });
    expectTypeOf(c.call(fn, [1])).toEqualTypeOf<string>();
    const clock = new Clock();
    expectTypeOf(c.call(clock, 'now')).toEqualTypeOf<number>();
    // @ts-expect-error not a method
    expect(() => c.call({ x: 1 }, 'x')).toThrow();
  });
});
