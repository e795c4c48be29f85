import { isThenable } from './binding.js';
import {
  E_DEFERRED_KEY_CONFLICT,
  E_DEFERRED_KEY_NOT_BOUND,
  E_INVALID_PROVIDER,
  E_PROVIDER_FAILED,
  E_PROVIDER_PHASE_ORDER,
} from './errors.js';
import type {
  ProviderClass,
  ProviderHooks,
  ProviderHost,
  ProviderPhase,
} from './service-provider.js';
import { type BindingKey, isBindingKey, keyName } from './token.js';

/** Where one provider is in its lifecycle. */
export type ProviderState =
  | 'pending'
  | 'registered'
  | 'booted'
  | 'started'
  | 'ready'
  | 'stopped'
  | 'failed';

/** One provider hook's duration, for boot profiling (`keel boot --profile`). */
export interface ProviderTiming {
  provider: string;
  module?: string;
  phase: ProviderPhase;
  ms: number;
}

export interface ProviderRegistryOptions {
  onTiming?(timing: ProviderTiming): void;
}

/** A row of `registry.list()`. */
export interface ProviderInfo {
  name: string;
  module?: string;
  deferred: boolean;
  state: ProviderState;
  /** Keys of a deferred provider, by name. */
  provides?: string[];
}

/** How far the registry as a whole has gone. */
export type RegistryPhase = 'created' | 'register' | 'boot' | 'start' | 'ready' | 'shutdown';

interface Run {
  status: 'running' | 'done' | 'failed';
  promise: Promise<void> | undefined;
  error: unknown;
}

interface ProviderRecord<App extends ProviderHost> {
  readonly cls: ProviderClass<App>;
  readonly name: string;
  readonly module: string | undefined;
  readonly provides: readonly BindingKey[];
  instance: ProviderHooks | undefined;
  state: ProviderState;
  readonly runs: Map<ProviderPhase, Run>;
  /** For a deferred provider: true, or its pending catch-up, once a key was resolved. */
  activation: true | Promise<true> | undefined;
}

const ORDER: readonly RegistryPhase[] = ['created', 'register', 'boot', 'start', 'ready'];
const AFTER_REGISTER: readonly ProviderPhase[] = ['boot', 'start', 'ready'];
const STATE_AFTER: Record<ProviderPhase, ProviderState> = {
  register: 'registered',
  boot: 'booted',
  start: 'started',
  ready: 'ready',
  shutdown: 'stopped',
};

/**
 * Runs service providers through the lifecycle in the order they were added (module
 * dependency order), and shutdown in reverse. Deferred providers (`static provides`) are
 * registered and booted when one of their keys is first resolved, then catch up with the
 * phases the registry already reached, and take part in every later phase and shutdown.
 *
 * @example
 * ```ts
 * const registry = new ProviderRegistry(app);
 * registry.add(DatabaseProvider, { module: 'core' });
 * registry.add(MailProvider, { module: 'mail' });
 * registry.register();
 * await registry.boot();
 * await registry.start();
 * await registry.ready();
 * const errors = await registry.shutdown();
 * ```
 */
export class ProviderRegistry<App extends ProviderHost> {
  readonly #app: App;
  readonly #onTiming: ProviderRegistryOptions['onTiming'];
  readonly #records: Array<ProviderRecord<App>> = [];
  readonly #deferred = new Map<BindingKey, ProviderRecord<App>>();
  #reached: RegistryPhase = 'created';
  #shutdown: Promise<Error[]> | undefined;

  constructor(app: App, options: ProviderRegistryOptions = {}) {
    this.#app = app;
    this.#onTiming = options.onTiming;
  }

  /** The last phase the registry entered. */
  get phase(): RegistryPhase {
    return this.#reached;
  }

  /** Add a provider; the order of add() calls is the order of every phase. */
  add(provider: ProviderClass<App>, meta: { module?: string } = {}): void {
    const name = typeof provider === 'function' ? provider.name || '(anonymous)' : typeof provider;
    if (typeof provider !== 'function' || !provider.prototype) {
      throw new E_INVALID_PROVIDER(name, 'not a class');
    }
    if (this.#reached !== 'created') {
      throw new E_PROVIDER_PHASE_ORDER(
        `add provider ${name}`,
        `providers are already at ${this.#reached}()`,
      );
    }
    if (this.#records.some((record) => record.cls === provider)) return;
    const provides = provider.provides ?? [];
    if (!Array.isArray(provides) || !provides.every(isBindingKey)) {
      throw new E_INVALID_PROVIDER(name, '`static provides` must be an array of binding keys');
    }
    this.#records.push({
      cls: provider,
      name,
      module: meta.module,
      provides: [...provides],
      instance: undefined,
      state: 'pending',
      runs: new Map(),
      activation: undefined,
    });
  }

  /** Run every eager provider's register(), and map deferred providers' keys. */
  register(): void {
    this.#expect('register', 'created');
    this.#reached = 'register';
    for (const record of this.#records) {
      for (const key of record.provides) {
        const other = this.#deferred.get(key);
        if (other) throw new E_DEFERRED_KEY_CONFLICT(keyName(key), other.name, record.name);
        this.#deferred.set(key, record);
      }
    }
    this.#app.container.setMissingResolver((key) => this.#activate(key), {
      has: (key) => this.#deferred.has(key),
      keys: () => this.#deferred.keys(),
    });
    for (const record of this.#records) {
      if (record.provides.length === 0) this.#registerOne(record);
    }
  }

  /** Run boot() of each registered provider in order, awaiting each. */
  boot(): Promise<void> {
    return this.#runAll('boot', 'register');
  }

  /** Run start() of each booted provider in order, awaiting each. */
  start(): Promise<void> {
    return this.#runAll('start', 'boot');
  }

  /** Run ready() of each started provider in order, awaiting each. */
  ready(): Promise<void> {
    return this.#runAll('ready', 'start');
  }

  /**
   * Run shutdown() of every provider that was registered, in reverse order. All run even
   * when some fail; the failures are returned (as E_PROVIDER_FAILED), not thrown. Calling
   * it again returns the first call's result.
   */
  shutdown(): Promise<Error[]> {
    this.#reached = 'shutdown';
    this.#shutdown ??= (async () => {
      const errors: Error[] = [];
      for (const record of [...this.#records].reverse()) {
        if (!record.instance) continue;
        // Let a deferred provider finish booting before it is asked to release.
        if (record.activation instanceof Promise) await record.activation.catch(() => {});
        try {
          await this.#run(record, 'shutdown');
        } catch (error) {
          errors.push(error as Error);
        }
      }
      return errors;
    })();
    return this.#shutdown;
  }

  /** Every provider with its module, whether it is deferred and its state. */
  list(): ProviderInfo[] {
    return this.#records.map((record) => ({
      name: record.name,
      ...(record.module !== undefined ? { module: record.module } : {}),
      deferred: record.provides.length > 0,
      state: record.state,
      ...(record.provides.length > 0 ? { provides: record.provides.map(keyName) } : {}),
    }));
  }

  #expect(phase: string, previous: RegistryPhase): void {
    if (this.#reached === previous) return;
    const reason =
      this.#reached === 'shutdown'
        ? 'the registry is shut down'
        : ORDER.indexOf(this.#reached) < ORDER.indexOf(previous)
          ? `${previous}() has not run yet`
          : `it already ran (providers are at ${this.#reached}())`;
    throw new E_PROVIDER_PHASE_ORDER(`run providers ${phase}()`, reason);
  }

  async #runAll(phase: 'boot' | 'start' | 'ready', previous: RegistryPhase): Promise<void> {
    this.#expect(phase, previous);
    this.#reached = phase;
    const phases = AFTER_REGISTER.slice(0, AFTER_REGISTER.indexOf(phase) + 1);
    for (const record of this.#records) {
      // A deferred provider nobody resolved stays asleep; an activated one joins in.
      if (record.instance) await this.#sequence(record, phases);
    }
  }

  #registerOne(record: ProviderRecord<App>): void {
    if (record.runs.has('register')) return;
    record.runs.set('register', { status: 'running', promise: undefined, error: undefined });
    const started = performance.now();
    let result: unknown;
    try {
      record.instance = new record.cls(this.#app);
      result = record.instance.register?.();
    } catch (error) {
      this.#fail(record, 'register', error);
    }
    if (isThenable(result)) {
      record.state = 'failed';
      Promise.resolve(result).catch(() => {});
      throw new E_INVALID_PROVIDER(
        record.name,
        'register() returned a promise; register() only binds, move async work to boot()',
      );
    }
    this.#done(record, 'register', started);
  }

  /**
   * The container's missing resolver: activate the deferred provider owning `key`. Returns
   * a promise only when one of its hooks is async, so a synchronous provider serves make().
   */
  #activate(key: BindingKey): boolean | Promise<boolean> {
    const record = this.#deferred.get(key);
    if (!record) return false;
    if (record.activation !== undefined) return record.activation;
    if (this.#reached === 'shutdown') {
      throw new E_PROVIDER_PHASE_ORDER(
        `activate deferred provider ${record.name}`,
        'the registry is shut down',
      );
    }
    // Set first: the provider's own hooks may resolve its keys while it activates.
    record.activation = true;
    for (const provided of record.provides) this.#deferred.delete(provided);
    this.#registerOne(record);
    for (const provided of record.provides) {
      if (!this.#app.container.bound(provided)) {
        record.state = 'failed';
        throw new E_DEFERRED_KEY_NOT_BOUND(record.name, keyName(provided));
      }
    }
    const reached = ORDER.indexOf(this.#reached);
    const pending = this.#sequence(record, AFTER_REGISTER.slice(0, Math.max(0, reached - 1)));
    if (pending === undefined) return true;
    const activation = pending.then(() => true as const);
    record.activation = activation;
    return activation;
  }

  /** Run phases in order; synchronous as long as every hook is. */
  #sequence(record: ProviderRecord<App>, phases: readonly ProviderPhase[]): Promise<void> | void {
    for (let i = 0; i < phases.length; i++) {
      const pending = this.#run(record, phases[i]!);
      if (pending) {
        const rest = phases.slice(i + 1);
        return pending.then(() => this.#sequence(record, rest));
      }
    }
  }

  /** Run one hook at most once per provider; later calls share the first run. */
  #run(record: ProviderRecord<App>, phase: ProviderPhase): Promise<void> | void {
    const existing = record.runs.get(phase);
    if (existing) {
      if (existing.status === 'failed') throw existing.error;
      // A re-entrant call (the hook resolving its own keys) is treated as done.
      return existing.promise;
    }
    const run: Run = { status: 'running', promise: undefined, error: undefined };
    record.runs.set(phase, run);
    const instance = record.instance!;
    const hook = instance[phase];
    if (typeof hook !== 'function') {
      run.status = 'done';
      if (record.state !== 'failed') record.state = STATE_AFTER[phase];
      return;
    }
    const started = performance.now();
    let result: unknown;
    try {
      result = hook.call(instance);
    } catch (error) {
      this.#fail(record, phase, error, run);
    }
    if (!isThenable(result)) {
      run.status = 'done';
      this.#done(record, phase, started);
      return;
    }
    run.promise = Promise.resolve(result).then(
      () => {
        run.status = 'done';
        this.#done(record, phase, started);
      },
      (error: unknown) => this.#fail(record, phase, error, run),
    );
    return run.promise;
  }

  #done(record: ProviderRecord<App>, phase: ProviderPhase, started: number): void {
    const run = record.runs.get(phase);
    if (run) run.status = 'done';
    if (record.state !== 'failed') record.state = STATE_AFTER[phase];
    this.#onTiming?.({
      provider: record.name,
      ...(record.module !== undefined ? { module: record.module } : {}),
      phase,
      ms: performance.now() - started,
    });
  }

  #fail(record: ProviderRecord<App>, phase: ProviderPhase, error: unknown, run?: Run): never {
    const wrapped = new E_PROVIDER_FAILED(record.name, record.module, phase).withCause(error);
    const failed = run ?? record.runs.get(phase);
    if (failed) {
      failed.status = 'failed';
      failed.error = wrapped;
    }
    record.state = 'failed';
    throw wrapped;
  }
}
