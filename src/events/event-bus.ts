import type { KeelError } from '../support/index.js';
import { isThenable } from '../support/thenable.js';
import {
  E_EVENT_DECLARATION_CONFLICT,
  E_INVALID_EVENT_DECLARATION,
  E_INVALID_EVENT_NAME,
  E_INVALID_LISTENER,
  E_LISTENER_FAILED,
} from './errors.js';
import { EventFake } from './event-fake.js';
import { assertEventName, checkListenerOptions, describeType } from './event-validation.js';
import { ListenerRegistry, type Registration, type StoredListener } from './listener-registry.js';
import type {
  AnyListener,
  EmitResult,
  ErrorReporter,
  EventDeclaration,
  EventDeclarationInfo,
  EventMap,
  EventMeta,
  FakeOptions,
  Listener,
  ListenerFailure,
  ListenerInfo,
  ListenerOptions,
  PayloadArgs,
} from './types.js';

/** Failures kept while no reporter is set; older ones are dropped first. */
const PENDING_LIMIT = 100;
/** Distinct silent event names whose resolved result is cached (see `#idle`). */
const IDLE_CACHE_LIMIT = 1024;
const NO_FAILURES: readonly ListenerFailure[] = Object.freeze([]);

interface Declared {
  halting: boolean;
  description: string | null;
}

/**
 * Keel's typed event bus. Payloads are typed from `Events` (by default the application's
 * augmented {@link EventMap}); listeners run one after another, by priority.
 *
 * Listeners run sequentially, each awaited before the next: priorities would mean nothing
 * if a high-priority listener could still be running when a lower one starts, and a
 * listener may rely on what an earlier one did (reserve stock, then send the e-mail). Work
 * that should not hold up the emitter belongs on the queue, dispatched from a listener.
 *
 * @example
 * ```ts
 * const bus = new EventBus<{ 'orders.placed': { orderId: number } }>();
 * bus.on('orders.placed', async ({ orderId }) => mailer.confirm(orderId), { priority: 10 });
 * const result = await bus.emit('orders.placed', { orderId: 42 });
 * ```
 */
export class EventBus<Events extends object = EventMap> {
  readonly #registry = new ListenerRegistry();
  readonly #declared = new Map<string, Declared>();
  // Emitting an event nobody listens to must cost nothing: its (frozen) result is built
  // once per name and the same resolved promise handed back afterwards.
  readonly #idle = new Map<string, Promise<EmitResult>>();
  #reporter: ErrorReporter | undefined;
  #pending: KeelError[] = [];
  #fake: EventFake<Events> | undefined;

  /**
   * Listen to `event`. Returns a function that removes this listener (idempotent).
   *
   * @example
   * ```ts
   * const off = bus.on('orders.placed', (order, meta) => log(meta.event, order.orderId));
   * off();
   * ```
   */
  on<E extends keyof Events & string>(
    event: E,
    listener: Listener<Events[E]>,
    options?: ListenerOptions,
  ): () => void {
    assertEventName(event);
    return this.#add(event, false, listener, options);
  }

  /**
   * Listen to the next emit of `event` only. The listener is removed before it runs, so
   * an emit it triggers itself does not call it again.
   *
   * @example
   * ```ts
   * bus.once('app.ready', () => console.log('ready'));
   * ```
   */
  once<E extends keyof Events & string>(
    event: E,
    listener: Listener<Events[E]>,
    options?: Omit<ListenerOptions, 'once'>,
  ): () => void {
    assertEventName(event);
    return this.#add(event, false, listener, {
      ...checkListenerOptions(event, options),
      once: true,
    });
  }

  /**
   * Remove every registration of `listener` for `event`; false when there was none.
   *
   * @example
   * ```ts
   * bus.off('orders.placed', sendConfirmation);
   * ```
   */
  off<E extends keyof Events & string>(event: E, listener: Listener<Events[E]>): boolean {
    assertEventName(event);
    return this.#registry.removeListener(event, listener) > 0;
  }

  /**
   * Listen to every event, e.g. for metrics or an audit trail. Wildcards take their place
   * among an event's listeners by priority; their failures are reported but never halt.
   *
   * @example
   * ```ts
   * bus.onAny(({ event }) => emitted.inc({ event }), { name: 'metrics' });
   * ```
   */
  onAny(listener: AnyListener<Events>, options?: ListenerOptions): () => void {
    return this.#add('*', true, listener, options);
  }

  /**
   * Declare how `event` behaves. With `halting: true`, the first failing listener stops
   * the rest and `emit()` rejects with its `E_LISTENER_FAILED`. Declaring again is
   * allowed if it does not contradict the first declaration.
   *
   * @example
   * ```ts
   * bus.declare('orders.placing', { halting: true, description: 'Before an order is saved' });
   * ```
   */
  declare<E extends keyof Events & string>(event: E, declaration: EventDeclaration = {}): this {
    assertEventName(event);
    if (declaration === null || typeof declaration !== 'object') {
      throw new E_INVALID_EVENT_DECLARATION(
        event,
        `expected an object, got ${describeType(declaration)}`,
      );
    }
    const { halting, description } = declaration;
    if (halting !== undefined && typeof halting !== 'boolean') {
      throw new E_INVALID_EVENT_DECLARATION(
        event,
        `"halting" must be a boolean, got ${describeType(halting)}`,
      );
    }
    if (description !== undefined && typeof description !== 'string') {
      throw new E_INVALID_EVENT_DECLARATION(
        event,
        `"description" must be a string, got ${describeType(description)}`,
      );
    }
    const existing = this.#declared.get(event);
    if (existing === undefined) {
      this.#declared.set(event, { halting: halting === true, description: description ?? null });
      return this;
    }
    if (halting !== undefined && halting !== existing.halting) {
      throw new E_EVENT_DECLARATION_CONFLICT(event, existing.halting);
    }
    existing.description ??= description ?? null;
    return this;
  }

  /** The declared events, sorted by name, for the compiled `events.json` and the CLI. */
  declarations(): EventDeclarationInfo[] {
    return [...this.#declared]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([event, d]) => ({ event, halting: d.halting, description: d.description }));
  }

  /**
   * Emit `event`: run its listeners in order and resolve with what happened. A failing
   * listener is reported and the others still run, unless the event is declared halting:
   * then the rest are skipped and the promise rejects with `E_LISTENER_FAILED`.
   *
   * @example
   * ```ts
   * const { listeners, failures } = await bus.emit('orders.placed', { orderId: 42 });
   * ```
   */
  emit<E extends keyof Events & string>(
    event: E,
    ...args: PayloadArgs<Events[E]>
  ): Promise<EmitResult>;
  // One optional parameter rather than a rest array: the no-listener path allocates nothing.
  emit(event: string, payload?: unknown): Promise<EmitResult> {
    const list = this.#registry.forEvent(event);
    const fake = this.#fake;
    if (list.length === 0 && fake === undefined) {
      const idle = this.#idle.get(event);
      if (idle !== undefined) return idle;
    }
    try {
      assertEventName(event);
    } catch (error) {
      return Promise.reject(error);
    }
    const emittedAt = Date.now();
    if (fake?.intercepts(event)) {
      fake.record(event, payload, emittedAt);
      if (!fake.passthrough) return Promise.resolve(idleResult(event));
    }
    if (list.length === 0) return this.#rememberIdle(event);
    return this.#dispatch(event, payload, list, emittedAt);
  }

  /**
   * True when emitting `event` would reach a listener (a wildcard or an active fake
   * counts), so a caller can skip building an expensive payload.
   */
  hasListeners<E extends keyof Events & string>(event: E): boolean {
    return this.#registry.forEvent(event).length > 0 || this.#fake?.intercepts(event) === true;
  }

  /**
   * Serialisable listings for the compiled `events.json` and `keel events:list`. With an
   * event: the listeners its emit runs, in order (wildcards appear as event `'*'`).
   * Without: every listener, sorted by event name, wildcards last.
   */
  listeners(event?: string): ListenerInfo[] {
    return this.#registry.infos(event);
  }

  /**
   * Remove every listener a module registered (when it is disabled); returns how many.
   *
   * @example
   * ```ts
   * bus.removeModule('billing');
   * ```
   */
  removeModule(module: string): number {
    return this.#registry.removeModule(module);
  }

  /**
   * Send listener failures to `reporter` (the kernel passes the logger). Until one is
   * set, the bus keeps the last 100 failures silently and hands them to the first
   * reporter, so nothing that failed during boot is lost.
   *
   * @example
   * ```ts
   * bus.setErrorReporter((error) => logger.error({ err: error }, error.message));
   * ```
   */
  setErrorReporter(reporter: ErrorReporter): void {
    if (typeof reporter !== 'function') {
      throw new E_INVALID_LISTENER(
        null,
        `the error reporter must be a function, got ${describeType(reporter)}`,
      );
    }
    this.#reporter = reporter;
    const pending = this.#pending;
    this.#pending = [];
    for (const error of pending) this.#report(error);
  }

  /**
   * Record emitted events for assertions, instead of calling listeners (or as well, with
   * `passthrough`). Replaces any fake already installed; `restore()` ends it.
   *
   * @example
   * ```ts
   * const events = bus.fake({ only: ['orders.placed'] });
   * await service.place(order);
   * events.assertEmitted('orders.placed', (p) => p.orderId === order.id);
   * ```
   */
  fake(options: FakeOptions<Events> = {}): EventFake<Events> {
    if (options.only !== undefined) {
      if (!Array.isArray(options.only)) {
        throw new E_INVALID_EVENT_NAME(
          options.only,
          'fake({ only }) expects an array of event names',
        );
      }
      for (const event of options.only) assertEventName(event);
    }
    const fake = new EventFake<Events>(options, (self) => {
      if (this.#fake === self) this.#fake = undefined;
    });
    this.#fake = fake;
    return fake;
  }

  #add(
    event: string,
    wildcard: boolean,
    listener: unknown,
    options: ListenerOptions | undefined,
  ): () => void {
    if (typeof listener !== 'function') {
      throw new E_INVALID_LISTENER(event, `expected a function, got ${describeType(listener)}`);
    }
    const checked = checkListenerOptions(event, options);
    const reg = this.#registry.add({
      event,
      wildcard,
      listener: listener as StoredListener,
      priority: checked.priority ?? 0,
      once: checked.once === true,
      module: checked.module ?? null,
      name: checked.name ?? functionName(listener),
    });
    return () => {
      this.#registry.remove(reg);
    };
  }

  async #dispatch(
    event: string,
    payload: unknown,
    list: readonly Registration[],
    emittedAt: number,
  ): Promise<EmitResult> {
    const meta: EventMeta = Object.freeze({ event, emittedAt });
    const halting = this.#declared.get(event)?.halting === true;
    let envelope: unknown;
    let ran = 0;
    let failures: ListenerFailure[] | undefined;
    for (const reg of list) {
      if (reg.once) {
        // A re-entrant emit (from an earlier listener, or this one) may hold a snapshot
        // that still contains it: `spent` is what keeps a once listener to one run.
        if (reg.spent) continue;
        reg.spent = true;
        this.#registry.remove(reg);
      }
      ran++;
      try {
        if (reg.wildcard && envelope === undefined) envelope = Object.freeze({ event, payload });
        const out = reg.listener((reg.wildcard ? envelope : payload) as never, meta);
        // Only await real promises: a run of synchronous listeners then finishes in one tick.
        if (isThenable(out)) await out;
      } catch (cause) {
        const error = new E_LISTENER_FAILED(event, reg.name, reg.module, cause).withCause(cause);
        if (halting && !reg.wildcard) throw error;
        failures ??= [];
        failures.push({ listener: reg.name, module: reg.module, error });
        this.#report(error);
      }
    }
    return { event, listeners: ran, failures: failures ?? NO_FAILURES };
  }

  #rememberIdle(event: string): Promise<EmitResult> {
    const idle = Promise.resolve(idleResult(event));
    // Names come from code, so the set is small; the cap only guards a runaway caller.
    if (this.#idle.size < IDLE_CACHE_LIMIT) this.#idle.set(event, idle);
    return idle;
  }

  #report(error: KeelError): void {
    const reporter = this.#reporter;
    if (reporter === undefined) {
      this.#pending.push(error);
      if (this.#pending.length > PENDING_LIMIT) this.#pending.shift();
      return;
    }
    try {
      reporter(error);
    } catch {
      // A broken reporter must not turn a reported failure into a failed emit; the
      // failure is still in the emit's result.
    }
  }
}

function idleResult(event: string): EmitResult {
  return Object.freeze({ event, listeners: 0, failures: NO_FAILURES });
}

function functionName(fn: Function): string | undefined {
  const name: unknown = fn.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
