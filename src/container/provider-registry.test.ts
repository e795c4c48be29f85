import { describe, expect, expectTypeOf, it } from 'vitest';
import { Container } from './container.js';
import {
  E_ASYNC_DEFERRED_PROVIDER,
  E_DEFERRED_KEY_CONFLICT,
  E_DEFERRED_KEY_NOT_BOUND,
  E_INVALID_PROVIDER,
  E_PROVIDER_FAILED,
  E_PROVIDER_PHASE_ORDER,
} from './errors.js';
import { ProviderRegistry, type ProviderTiming } from './provider-registry.js';
import { type ProviderClass, type ProviderHost, ServiceProvider } from './service-provider.js';

interface TestApp extends ProviderHost {
  readonly log: string[];
}

function app(): TestApp {
  return { container: new Container(), log: [] };
}

/** A provider class that logs each hook it runs as `Name.phase`. */
function logging(name: string, extra: Partial<Record<string, () => unknown>> = {}) {
  const cls = class extends ServiceProvider<TestApp> {
    #log(phase: string): unknown {
      this.app.log.push(`${name}.${phase}`);
      return extra[phase]?.call(this);
    }
    override register(): void {
      this.#log('register');
    }
    override boot(): Promise<void> {
      return Promise.resolve(this.#log('boot')).then(() => {});
    }
    override start(): Promise<void> | void {
      return this.#log('start') as Promise<void> | undefined;
    }
    override ready(): Promise<void> | void {
      return this.#log('ready') as Promise<void> | undefined;
    }
    override async shutdown(): Promise<void> {
      await this.#log('shutdown');
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

async function runAll(registry: ProviderRegistry<TestApp>): Promise<void> {
  registry.register();
  await registry.boot();
  await registry.start();
  await registry.ready();
}

describe('ProviderRegistry phases', () => {
  it('runs phases in insertion order and shutdown in reverse', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(logging('A'), { module: 'core' });
    registry.add(logging('B'), { module: 'users' });
    await runAll(registry);
    expect(await registry.shutdown()).toEqual([]);
    expect(host.log).toEqual([
      'A.register',
      'B.register',
      'A.boot',
      'B.boot',
      'A.start',
      'B.start',
      'A.ready',
      'B.ready',
      'B.shutdown',
      'A.shutdown',
    ]);
    expect(registry.list()).toEqual([
      { name: 'A', module: 'core', deferred: false, state: 'stopped' },
      { name: 'B', module: 'users', deferred: false, state: 'stopped' },
    ]);
  });

  it('awaits each async boot before the next one starts', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(
      logging('Slow', {
        boot: () =>
          new Promise<void>((r) => setTimeout(() => r(), 5)).then(() => {
            host.log.push('Slow.boot.done');
          }),
      }),
    );
    registry.add(logging('Next'));
    registry.register();
    await registry.boot();
    expect(host.log).toEqual([
      'Slow.register',
      'Next.register',
      'Slow.boot',
      'Slow.boot.done',
      'Next.boot',
    ]);
  });

  it('lets a provider define only the hooks it needs', async () => {
    class Bindings extends ServiceProvider {
      override register(): void {
        this.app.container.value('x', 1);
      }
    }
    class Empty extends ServiceProvider {}
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(Bindings);
    registry.add(Empty);
    await runAll(registry);
    expect(host.container.make('x')).toBe(1);
    expect(registry.list().map((p) => p.state)).toEqual(['ready', 'ready']);
  });

  it('ignores a provider added twice', () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    const A = logging('A');
    registry.add(A);
    registry.add(A);
    registry.register();
    expect(host.log).toEqual(['A.register']);
  });

  it('reports timings per provider and phase', async () => {
    const timings: ProviderTiming[] = [];
    const registry = new ProviderRegistry(app(), { onTiming: (t) => timings.push(t) });
    registry.add(logging('A'), { module: 'core' });
    await runAll(registry);
    await registry.shutdown();
    expect(timings.map((t) => `${t.provider}/${t.module}/${t.phase}`)).toEqual([
      'A/core/register',
      'A/core/boot',
      'A/core/start',
      'A/core/ready',
      'A/core/shutdown',
    ]);
    for (const t of timings) expect(t.ms).toBeGreaterThanOrEqual(0);
  });

  it('enforces the order of phases', async () => {
    const registry = new ProviderRegistry(app());
    await expect(registry.boot()).rejects.toThrow(
      'Cannot run providers boot(): register() has not run yet',
    );
    registry.register();
    expect(() => registry.register()).toThrow(E_PROVIDER_PHASE_ORDER);
    expect(() => registry.add(logging('Late'))).toThrow('providers are already at register()');
    await expect(registry.start()).rejects.toThrow('boot() has not run yet');
    await registry.boot();
    await expect(registry.boot()).rejects.toThrow('it already ran (providers are at boot())');
    expect(registry.phase).toBe('boot');
    await registry.shutdown();
    await expect(registry.start()).rejects.toThrow('the registry is shut down');
  });

  it('rejects what is not a provider', () => {
    const registry = new ProviderRegistry(app());
    expect(() => registry.add(42 as never)).toThrow('Invalid provider number: not a class');
    expect(() => registry.add((() => {}) as never)).toThrow(E_INVALID_PROVIDER);
    class BadProvides extends ServiceProvider {
      static override provides = [null as unknown as string];
    }
    expect(() => registry.add(BadProvides)).toThrow('`static provides` must be an array');
  });

  it('refuses an async register()', () => {
    class AsyncRegister extends ServiceProvider {
      override async register(): Promise<void> {}
    }
    const registry = new ProviderRegistry(app());
    registry.add(AsyncRegister);
    expect(() => registry.register()).toThrow('register() returned a promise');
  });
});

describe('ProviderRegistry failures', () => {
  it('wraps a failure with the provider, its module and the phase', async () => {
    const cause = new Error('no database');
    const registry = new ProviderRegistry(app());
    registry.add(
      logging('DatabaseProvider', {
        boot: () => {
          throw cause;
        },
      }),
      { module: 'core' },
    );
    registry.register();
    const error = await registry.boot().catch((e: unknown) => e);
    expect(E_PROVIDER_FAILED.is(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Provider DatabaseProvider (module core) failed in boot()',
    );
    expect((error as Error).cause).toBe(cause);
    expect(registry.list()[0]!.state).toBe('failed');
  });

  it('wraps a failing constructor or register() as a register failure', () => {
    class Throws extends ServiceProvider {
      constructor(host: ProviderHost) {
        super(host);
        throw new Error('ctor');
      }
    }
    const registry = new ProviderRegistry(app());
    registry.add(Throws);
    expect(() => registry.register()).toThrow('Provider Throws failed in register()');
    expect(registry.list()[0]!.state).toBe('failed');
  });

  it('wraps a rejected async hook', async () => {
    const registry = new ProviderRegistry(app());
    registry.add(logging('Starter', { start: () => Promise.reject(new Error('port in use')) }));
    registry.register();
    await registry.boot();
    await expect(registry.start()).rejects.toThrow('Provider Starter failed in start()');
  });

  it('runs every shutdown even when some fail, and returns the failures', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(logging('A'));
    registry.add(
      logging('B', {
        shutdown: () => {
          throw new Error('b');
        },
      }),
    );
    registry.add(logging('C', { shutdown: () => Promise.reject(new Error('c')) }));
    await runAll(registry);
    const errors = await registry.shutdown();
    expect(errors.map((e) => e.message)).toEqual([
      'Provider C failed in shutdown()',
      'Provider B failed in shutdown()',
    ]);
    expect(host.log.slice(-3)).toEqual(['C.shutdown', 'B.shutdown', 'A.shutdown']);
    // A second call returns the same outcome without running anything again.
    expect(await registry.shutdown()).toBe(errors);
    expect(host.log.filter((l) => l.endsWith('shutdown'))).toHaveLength(3);
  });

  it('shuts down providers that registered even if boot never ran', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(logging('A'));
    registry.register();
    await registry.shutdown();
    expect(host.log).toEqual(['A.register', 'A.shutdown']);
  });
});

describe('deferred providers', () => {
  class Mailer {
    sent: string[] = [];
  }

  function mailProvider(options: { asyncBoot?: boolean; bind?: boolean } = {}) {
    return class MailProvider extends ServiceProvider<TestApp> {
      static override provides = ['mailer', Mailer];
      override register(): void {
        this.app.log.push('Mail.register');
        if (options.bind === false) return;
        this.app.container.singleton(Mailer);
        this.app.container.alias('mailer', Mailer);
      }
      override boot(): void | Promise<void> {
        this.app.log.push('Mail.boot');
        // The provider may resolve its own keys while booting.
        this.app.container.make(Mailer).sent.push('booted');
        if (options.asyncBoot) {
          return new Promise<void>((r) => setTimeout(r, 1)).then(() => {
            this.app.container.make(Mailer).sent.push('async');
            this.app.log.push('Mail.boot.done');
          });
        }
      }
      override start(): void {
        this.app.log.push('Mail.start');
      }
      override ready(): void {
        this.app.log.push('Mail.ready');
      }
      override shutdown(): void {
        this.app.log.push('Mail.shutdown');
      }
    };
  }

  it('does nothing until a key is resolved, then registers and boots synchronously', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(logging('A'));
    registry.add(mailProvider(), { module: 'mail' });
    await runAll(registry);
    expect(host.log).not.toContain('Mail.register');
    expect(registry.list()[1]).toEqual({
      name: 'MailProvider',
      module: 'mail',
      deferred: true,
      state: 'pending',
      provides: ['mailer', 'Mailer'],
    });
    expect(host.container.bound('mailer')).toBe(true);
    const mailer = host.container.make('mailer') as Mailer;
    expect(mailer.sent).toEqual(['booted']);
    expect(host.container.make(Mailer)).toBe(mailer);
    // Activated after ready(): it catches up with start() and ready().
    expect(host.log.slice(-4)).toEqual(['Mail.register', 'Mail.boot', 'Mail.start', 'Mail.ready']);
    expect(registry.list()[1]!.state).toBe('ready');
    await registry.shutdown();
    expect(host.log.slice(-2)).toEqual(['Mail.shutdown', 'A.shutdown']);
  });

  it('activated before boot(), is booted by the boot phase in its position', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider());
    registry.add(logging('B'));
    registry.register();
    host.container.make('mailer');
    expect(host.log).toEqual(['B.register', 'Mail.register']);
    await registry.boot();
    await registry.start();
    expect(host.log).toEqual([
      'B.register',
      'Mail.register',
      'Mail.boot',
      'B.boot',
      'Mail.start',
      'B.start',
    ]);
  });

  it('activated during boot(), joins start() and ready() in its position', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider());
    registry.add(
      logging('UsesMail', {
        boot(this: ServiceProvider<TestApp>) {
          (this as unknown as { app: TestApp }).app.container.make('mailer');
        },
      }),
    );
    await runAll(registry);
    expect(host.log).toEqual([
      'UsesMail.register',
      'UsesMail.boot',
      'Mail.register',
      'Mail.boot',
      'Mail.start',
      'UsesMail.start',
      'Mail.ready',
      'UsesMail.ready',
    ]);
  });

  it('never registers a deferred provider nobody asked for', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider());
    await runAll(registry);
    await registry.shutdown();
    expect(host.log).toEqual([]);
    expect(registry.list()[0]!.state).toBe('pending');
  });

  it('with an async boot, make() asks for makeAsync, which waits for the boot', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider({ asyncBoot: true }));
    await runAll(registry);
    expect(() => host.container.make('mailer')).toThrow(E_ASYNC_DEFERRED_PROVIDER);
    expect(() => host.container.make(Mailer)).toThrow('use makeAsync("Mailer")');
    const mailer = (await host.container.makeAsync('mailer')) as Mailer;
    expect(mailer.sent).toEqual(['booted', 'async']);
    expect(host.log).toContain('Mail.boot.done');
    expect(host.container.make(Mailer)).toBe(mailer);
    expect(registry.list()[0]!.state).toBe('ready');
  });

  it('waits for a deferred boot in flight before shutting it down', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider({ asyncBoot: true }));
    await runAll(registry);
    const pending = host.container.makeAsync('mailer');
    const errors = await registry.shutdown();
    await pending;
    expect(errors).toEqual([]);
    expect(host.log.indexOf('Mail.boot.done')).toBeLessThan(host.log.indexOf('Mail.shutdown'));
  });

  it('fails clearly when register() does not bind a promised key', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider({ bind: false }));
    await runAll(registry);
    expect(() => host.container.make('mailer')).toThrow(E_DEFERRED_KEY_NOT_BOUND);
    expect(() => host.container.make('mailer')).toThrow(
      'Deferred provider MailProvider lists "mailer" in provides but its register() did not bind it',
    );
  });

  it('reports a deferred boot failure on every later resolution', async () => {
    const host = app();
    class Broken extends ServiceProvider {
      static override provides = ['broken'];
      override register(): void {
        this.app.container.value('broken', 1);
      }
      override async boot(): Promise<void> {
        throw new Error('cannot boot');
      }
    }
    const registry = new ProviderRegistry(host);
    registry.add(Broken, { module: 'm' });
    await runAll(registry);
    await expect(host.container.makeAsync('broken')).rejects.toThrow(
      'Provider Broken (module m) failed in boot()',
    );
    expect(() => host.container.make('broken')).toThrow(E_PROVIDER_FAILED);
  });

  it('refuses two deferred providers claiming the same key', () => {
    class One extends ServiceProvider {
      static override provides = ['x'];
    }
    class Two extends ServiceProvider {
      static override provides = ['x'];
    }
    const registry = new ProviderRegistry(app());
    registry.add(One);
    registry.add(Two);
    expect(() => registry.register()).toThrow(E_DEFERRED_KEY_CONFLICT);
    expect(() => new ProviderRegistry(app())).not.toThrow();
  });

  it('refuses to activate after shutdown', async () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider());
    await runAll(registry);
    await registry.shutdown();
    expect(() => host.container.make('mailer')).toThrow('the registry is shut down');
  });

  it('suggests deferred keys for typos', () => {
    const host = app();
    const registry = new ProviderRegistry(host);
    registry.add(mailProvider());
    registry.register();
    expect(() => host.container.make('mailr')).toThrow('Did you mean "mailer"?');
  });
});

describe('provider types', () => {
  it('accepts providers written for the base host in a richer app registry', () => {
    class Generic extends ServiceProvider {}
    class Specific extends ServiceProvider<TestApp> {}
    expectTypeOf(Generic).toExtend<ProviderClass<TestApp>>();
    expectTypeOf(Specific).toExtend<ProviderClass<TestApp>>();
    expectTypeOf(Specific).not.toExtend<ProviderClass<ProviderHost>>();
  });
});
