import { describe, expect, it } from 'vitest';
import { Container } from './container.js';
import { E_INVALID_CALL, E_INVALID_INJECT } from './errors.js';
import { inject, readInjectList } from './inject.js';
import { token } from './token.js';

class Database {
  readonly name = 'db';
}
const CONFIG = token<{ env: string }>('config');

@inject(Database, CONFIG)
class UserService {
  constructor(
    readonly db: Database,
    readonly config: { env: string },
  ) {}

  @inject(Database)
  find(db: Database, id: string): string {
    return `${db.name}:${id}:${this.config.env}`;
  }

  plain(a?: string): string {
    return `plain ${a ?? ''}`.trim();
  }

  @inject(CONFIG)
  static describe(config: { env: string }): string {
    return `UserService@${config.env}`;
  }
}

function container(): Container {
  return new Container().singleton(Database).value(CONFIG, { env: 'test' });
}

describe('@inject', () => {
  it('declares constructor dependencies on a class', () => {
    const users = container().make(UserService);
    expect(users.db).toBeInstanceOf(Database);
    expect(users.config).toEqual({ env: 'test' });
    expect(readInjectList(UserService)).toEqual([Database, CONFIG]);
  });

  it('wins over a parent static list, and a subclass static wins over a decorated parent', () => {
    class Base {
      static inject = ['a'];
      constructor(readonly dep: unknown) {}
    }
    @inject('b')
    class Decorated extends Base {}
    class Overriding extends Decorated {
      static override inject = ['c'];
    }
    class Inheriting extends Decorated {}
    const c = new Container().value('a', 'A').value('b', 'B').value('c', 'C');
    expect(c.make(Decorated).dep).toBe('B');
    expect(c.make(Overriding).dep).toBe('C');
    expect(c.make(Inheriting).dep).toBe('B');
  });

  it('validates keys when decorating, naming the class', () => {
    expect(() => {
      @inject(undefined as unknown as string)
      class Broken {
        constructor(readonly x: unknown) {}
      }
      return Broken;
    }).toThrow('Invalid inject list on Broken: entry 0 is undefined (a circular import?)');
  });

  it('refuses private methods and other decorator targets', () => {
    expect(() => {
      class Hidden {
        @inject(Database)
        #secret(): void {}
        run(): void {
          this.#secret();
        }
      }
      return Hidden;
    }).toThrow(E_INVALID_INJECT);
    const decorate = inject(Database) as unknown as (v: unknown, c: { kind: string }) => void;
    expect(() => decorate(undefined, { kind: 'field', name: 'x' } as never)).toThrow(
      '@inject goes on a class or a method',
    );
  });
});

describe('container.call', () => {
  it('injects a method’s declared dependencies and appends extra arguments', () => {
    const c = container();
    const users = c.make(UserService);
    expect(c.call(users, 'find', ['42'])).toBe('db:42:test');
  });

  it('calls a static method with its declared dependencies', () => {
    expect(container().call(UserService, 'describe')).toBe('UserService@test');
  });

  it('calls an undecorated method with the extra arguments only', () => {
    const c = container();
    expect(c.call(c.make(UserService), 'plain', ['x'])).toBe('plain x');
    expect(c.call(c.make(UserService), 'plain')).toBe('plain');
  });

  it('calls a function with its `inject` list', () => {
    const c = container();
    const fn = Object.assign((db: Database, suffix: string) => `${db.name}${suffix}`, {
      inject: [Database],
    });
    expect(c.call(fn, ['!'])).toBe('db!');
    expect(c.call(() => 'no deps')).toBe('no deps');
  });

  it('uses symbol method names', () => {
    const run = Symbol('run');
    const job = {
      [run]: (x: string) => `ran ${x}`,
    };
    expect(new Container().call(job, run, ['now'])).toBe('ran now');
  });

  it('awaits dependencies and the result with callAsync', async () => {
    const c = new Container().singleton('slow', async () => 'slow value');
    class Job {
      handle(value: string, extra: string): Promise<string> {
        return Promise.resolve(`${value}+${extra}`);
      }
    }
    Object.assign(Job.prototype.handle, { inject: ['slow'] });
    expect(await c.callAsync(new Job(), 'handle', ['x'])).toBe('slow value+x');
  });

  it('rejects what it cannot call, with the target named', () => {
    const c = new Container();
    expect(() => c.call({ name: 1 } as never, 'name' as never)).toThrow(
      'Cannot call Object.name: not a method',
    );
    expect(() => c.call(null as never, 'x' as never)).toThrow('Cannot call null: not an object');
    expect(() => c.call(42 as never)).toThrow('Cannot call 42: not a function');
    expect(() => c.call(Database as never)).toThrow('a class; use make() instead');
    expect(() => c.call((() => 1) as never, 'oops' as never)).toThrow(E_INVALID_CALL);
    expect(() => c.call(() => 1, 42 as never)).toThrow('extra arguments must be an array');
  });

  it('validates a function’s inject list', () => {
    const fn = Object.assign(() => 1, { inject: [null] });
    expect(() => new Container().call(fn)).toThrow(E_INVALID_INJECT);
  });
});
