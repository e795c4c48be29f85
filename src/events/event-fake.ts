import { suggest } from '../support/index.js';
import { E_EVENT_ASSERTION_FAILED } from './errors.js';
import type { EmittedEvent, FakeOptions } from './types.js';

/** One emit recorded by a fake. */
export type RecordedEvent<Events extends object> = EmittedEvent<Events> & {
  readonly emittedAt: number;
};

type Predicate<P> = (payload: P) => boolean;

/**
 * Records the events a bus emits, for tests: made by `bus.fake()`. By default the bus
 * records instead of calling listeners; with `{ passthrough: true }` it does both.
 *
 * @example
 * ```ts
 * const events = bus.fake();
 * await placeOrder(42);
 * events.assertEmitted('orders.placed', (p) => p.orderId === 42);
 * events.restore();
 * ```
 */
export class EventFake<Events extends object> {
  readonly #records: RecordedEvent<Events>[] = [];
  readonly #only: ReadonlySet<string> | undefined;
  readonly #passthrough: boolean;
  readonly #detach: (fake: EventFake<Events>) => void;

  /** @internal Made by `EventBus.fake()`. */
  constructor(options: FakeOptions<Events>, detach: (fake: EventFake<Events>) => void) {
    this.#only = options.only === undefined ? undefined : new Set(options.only);
    this.#passthrough = options.passthrough === true;
    this.#detach = detach;
  }

  /** @internal True when this fake records `event`. */
  intercepts(event: string): boolean {
    return this.#only === undefined || this.#only.has(event);
  }

  /** @internal Whether listeners run as well. */
  get passthrough(): boolean {
    return this.#passthrough;
  }

  /** @internal Called by the bus for each intercepted emit. */
  record(event: string, payload: unknown, emittedAt: number): void {
    this.#records.push({ event, payload, emittedAt } as RecordedEvent<Events>);
  }

  /**
   * The payloads emitted for `event`, in order.
   *
   * @example
   * ```ts
   * expect(events.emitted('orders.placed')).toEqual([{ orderId: 42 }]);
   * ```
   */
  emitted<E extends keyof Events & string>(event: E): Events[E][] {
    const out: Events[E][] = [];
    for (const record of this.#records) {
      if (record.event === event) out.push(record.payload as Events[E]);
    }
    return out;
  }

  /** Every recorded emit, in order, with its name, payload and time. */
  all(): RecordedEvent<Events>[] {
    return [...this.#records];
  }

  /**
   * Throw `E_EVENT_ASSERTION_FAILED` unless `event` was emitted (with a payload matching
   * `predicate`, when given).
   *
   * @example
   * ```ts
   * events.assertEmitted('orders.placed', (p) => p.total > 100);
   * ```
   */
  assertEmitted<E extends keyof Events & string>(event: E, predicate?: Predicate<Events[E]>): void {
    const payloads = this.emitted(event);
    if (payloads.length === 0) {
      throw new E_EVENT_ASSERTION_FAILED(
        `Expected event "${event}" to be emitted, but it was not.${this.#context(event)}`,
      );
    }
    if (predicate !== undefined && !payloads.some(predicate)) {
      throw new E_EVENT_ASSERTION_FAILED(
        `Event "${event}" was emitted ${times(payloads.length)}, but no payload matched the predicate.`,
      );
    }
  }

  /** Throw unless `event` was emitted exactly `count` times. */
  assertEmittedTimes<E extends keyof Events & string>(event: E, count: number): void {
    const actual = this.emitted(event).length;
    if (actual !== count) {
      throw new E_EVENT_ASSERTION_FAILED(
        `Expected event "${event}" to be emitted ${times(count)}, but it was emitted ${times(actual)}.${actual === 0 ? this.#context(event) : ''}`,
      );
    }
  }

  /**
   * Throw if `event` was emitted (with a payload matching `predicate`, when given).
   *
   * @example
   * ```ts
   * events.assertNotEmitted('orders.cancelled');
   * ```
   */
  assertNotEmitted<E extends keyof Events & string>(
    event: E,
    predicate?: Predicate<Events[E]>,
  ): void {
    const payloads = this.emitted(event);
    const matching = predicate === undefined ? payloads : payloads.filter(predicate);
    if (matching.length > 0) {
      throw new E_EVENT_ASSERTION_FAILED(
        `Expected event "${event}" not to be emitted${predicate === undefined ? '' : ' with a matching payload'}, but it was emitted ${times(matching.length)}.`,
      );
    }
  }

  /** Throw if any event was recorded. */
  assertNothingEmitted(): void {
    if (this.#records.length > 0) {
      throw new E_EVENT_ASSERTION_FAILED(
        `Expected no events to be emitted, but got: ${this.#summary()}.`,
      );
    }
  }

  /** Forget what was recorded so far; keep faking. */
  clear(): void {
    this.#records.length = 0;
  }

  /** Stop faking: the bus calls its listeners again. Records stay readable. */
  restore(): void {
    this.#detach(this);
  }

  // What was emitted instead, and the likely intended name, so a typo is obvious.
  #context(event: string): string {
    if (this.#records.length === 0) return ' No events were emitted.';
    const names = new Set(this.#records.map((r) => r.event));
    const near = suggest(event, names);
    return ` Emitted: ${this.#summary()}.${near === undefined ? '' : ` Did you mean "${near}"?`}`;
  }

  #summary(): string {
    const counts = new Map<string, number>();
    for (const r of this.#records) counts.set(r.event, (counts.get(r.event) ?? 0) + 1);
    return [...counts].map(([name, count]) => `${name} (${count})`).join(', ');
  }
}

function times(count: number): string {
  return count === 1 ? 'once' : `${count} times`;
}
