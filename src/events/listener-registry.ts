import type { Awaitable } from '../support/index.js';
import type { EventMeta, ListenerInfo } from './types.js';

/** The listener as stored: event listeners get the payload, wildcards the envelope. */
export type StoredListener = (value: never, meta: EventMeta) => Awaitable<void>;

/** One `on()`/`onAny()` call. Identity matters: unsubscribe removes exactly this object. */
export interface Registration {
  /** Global registration order, the tie-breaker between equal priorities. */
  readonly seq: number;
  /** The event name, or `'*'` for a wildcard. */
  readonly event: string;
  readonly wildcard: boolean;
  readonly listener: StoredListener;
  readonly priority: number;
  readonly once: boolean;
  readonly module: string | null;
  readonly name: string;
  /** Set when a `once` listener starts its only run; later snapshots skip it. */
  spent: boolean;
}

export type NewRegistration = Omit<Registration, 'seq' | 'spent' | 'name'> & {
  name: string | undefined;
};

const EMPTY: readonly Registration[] = Object.freeze([]);

/** Runs before `b`: higher priority first, then earlier registration. */
function runsBefore(a: Registration, b: Registration): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

function insertSorted(list: readonly Registration[], reg: Registration): Registration[] {
  // `reg` has the highest seq so far: it goes after every listener of equal or higher priority.
  let at = list.length;
  while (at > 0 && list[at - 1]!.priority < reg.priority) at--;
  return [...list.slice(0, at), reg, ...list.slice(at)];
}

function mergeSorted(a: readonly Registration[], b: readonly Registration[]): Registration[] {
  const out: Registration[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    out.push(runsBefore(a[i]!, b[j]!) ? a[i++]! : b[j++]!);
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function toInfo(reg: Registration): ListenerInfo {
  return {
    event: reg.event,
    name: reg.name,
    module: reg.module,
    priority: reg.priority,
    once: reg.once,
  };
}

/**
 * The listeners of an event bus, kept sorted in run order.
 *
 * Every list is copy-on-write: a change replaces the array, never mutates it. An emit
 * iterates the array it got when it started, so listeners added or removed meanwhile
 * (by a listener, or by a concurrent emit) do not change that emit, and no emit ever
 * needs to copy.
 */
export class ListenerRegistry {
  readonly #byEvent = new Map<string, readonly Registration[]>();
  #wildcards: readonly Registration[] = EMPTY;
  // Event listeners and wildcards merged in run order, per event, until either changes.
  readonly #merged = new Map<string, readonly Registration[]>();
  // Per module and event, how many listeners were named `module#index` so far.
  readonly #fallbackIndex = new Map<string, number>();
  #seq = 0;

  add(input: NewRegistration): Registration {
    const reg: Registration = {
      ...input,
      seq: this.#seq++,
      spent: false,
      name: input.name ?? this.#fallbackName(input.module, input.event),
    };
    if (reg.wildcard) {
      this.#wildcards = insertSorted(this.#wildcards, reg);
      this.#merged.clear();
    } else {
      this.#byEvent.set(reg.event, insertSorted(this.#byEvent.get(reg.event) ?? EMPTY, reg));
      this.#merged.delete(reg.event);
    }
    return reg;
  }

  /** Remove one registration; false when it was already gone. */
  remove(reg: Registration): boolean {
    if (reg.wildcard) {
      const next = this.#wildcards.filter((r) => r !== reg);
      if (next.length === this.#wildcards.length) return false;
      this.#wildcards = next;
      this.#merged.clear();
      return true;
    }
    return this.#filterEvent(reg.event, (r) => r !== reg) > 0;
  }

  /** Remove the event's registrations of `listener`; returns how many were removed. */
  removeListener(event: string, listener: unknown): number {
    return this.#filterEvent(event, (r) => r.listener !== listener);
  }

  /** Remove every registration owned by `module`, wildcards included. */
  removeModule(module: string): number {
    let removed = 0;
    for (const event of [...this.#byEvent.keys()]) {
      removed += this.#filterEvent(event, (r) => r.module !== module);
    }
    const wildcards = this.#wildcards.filter((r) => r.module !== module);
    if (wildcards.length !== this.#wildcards.length) {
      removed += this.#wildcards.length - wildcards.length;
      this.#wildcards = wildcards;
      this.#merged.clear();
    }
    return removed;
  }

  /**
   * The listeners an emit of `event` runs, in order. Allocation-free when nothing changed
   * since the last call (the common case) and when there are no listeners at all.
   */
  forEvent(event: string): readonly Registration[] {
    const own = this.#byEvent.get(event);
    if (own === undefined) return this.#wildcards;
    if (this.#wildcards.length === 0) return own;
    let merged = this.#merged.get(event);
    if (merged === undefined) {
      merged = mergeSorted(own, this.#wildcards);
      this.#merged.set(event, merged);
    }
    return merged;
  }

  /**
   * Serialisable listings. With an event: what its emit runs, in order, wildcards
   * included. Without: every event's listeners sorted by event name, then the wildcards.
   */
  infos(event?: string): ListenerInfo[] {
    if (event !== undefined) return this.forEvent(event).map(toInfo);
    const events = [...this.#byEvent.keys()].sort();
    const out: ListenerInfo[] = [];
    for (const name of events) for (const reg of this.#byEvent.get(name)!) out.push(toInfo(reg));
    for (const reg of this.#wildcards) out.push(toInfo(reg));
    return out;
  }

  #filterEvent(event: string, keep: (reg: Registration) => boolean): number {
    const list = this.#byEvent.get(event);
    if (list === undefined) return 0;
    const next = list.filter(keep);
    if (next.length === list.length) return 0;
    // Drop empty lists so `forEvent` of a silenced event takes the no-listener path again.
    if (next.length === 0) this.#byEvent.delete(event);
    else this.#byEvent.set(event, next);
    this.#merged.delete(event);
    return list.length - next.length;
  }

  #fallbackName(module: string | null, event: string): string {
    const owner = module ?? 'anonymous';
    const key = `${owner}\u0000${event}`;
    const index = this.#fallbackIndex.get(key) ?? 0;
    this.#fallbackIndex.set(key, index + 1);
    return `${owner}#${index}`;
  }
}
