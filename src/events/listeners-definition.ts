import { type Awaitable, isPlainObject, suggest } from '../support/index.js';
import { E_INVALID_LISTENERS_DEFINITION } from './errors.js';
import type { EventBus } from './event-bus.js';
import { assertEventName, checkListenerOptions, describeType } from './event-validation.js';
import type { EventMap, EventMeta, Listener } from './types.js';

/** A listener in a module's `events.ts`: a function, or one with its options. */
export type ListenerSpec<P> =
  | Listener<P>
  | { handle: Listener<P>; priority?: number; once?: boolean; name?: string };

/** What `defineListeners()` accepts: per event, one listener spec or several. */
export type ListenersMap<Events> = {
  [E in keyof Events]?: ListenerSpec<Events[E]> | ReadonlyArray<ListenerSpec<Events[E]>>;
};

/** One normalised listener of a definition. */
export interface ListenerEntry {
  readonly event: string;
  readonly handle: (payload: never, meta: EventMeta) => Awaitable<void>;
  readonly priority: number;
  readonly once: boolean;
  readonly name: string | undefined;
  /** Position among the event's listeners in the definition, for `module#index` names. */
  readonly index: number;
}

/** A module's listeners, checked and frozen: what its `events.ts` default-exports. */
export interface ListenersDefinition {
  readonly kind: 'keel.listeners';
  readonly entries: readonly ListenerEntry[];
}

const SPEC_KEYS = ['handle', 'priority', 'once', 'name'];

/**
 * Define a module's listeners, typed from the application's {@link EventMap} (or the map
 * given as type argument). Checked now, so a mistake fails when the file is imported.
 *
 * @example
 * ```ts
 * // modules/orders/events.ts
 * export default defineListeners({
 *   'orders.placed': [
 *     reserveStock,
 *     { handle: sendConfirmation, priority: -10, name: 'send-confirmation' },
 *   ],
 * });
 * ```
 */
export function defineListeners<Events extends object = EventMap>(
  // NoInfer: the map's keys must come from Events, not define it.
  map: ListenersMap<NoInfer<Events>>,
): ListenersDefinition {
  return normalizeMap(map, '');
}

/**
 * Register a definition's listeners on `bus`, owned by `module` (so `removeModule` drops
 * them). Everything is checked before the first listener is added: all or nothing.
 *
 * @example
 * ```ts
 * registerListeners(bus, (await import('./modules/orders/events.js')).default, 'orders');
 * ```
 */
export function registerListeners<Events extends object>(
  bus: EventBus<Events>,
  definition: ListenersDefinition,
  module: string,
): void {
  if (typeof module !== 'string' || module.trim() === '') {
    throw new E_INVALID_LISTENERS_DEFINITION(
      '',
      `the module name must be a non-empty string, got ${describeType(module)}`,
    );
  }
  const where = `of module "${module}"`;
  const entries = isDefinition(definition)
    ? definition.entries.map((entry, at) =>
        checkEntry(
          { ...entry, index: Number.isSafeInteger(entry.index) ? entry.index : at },
          where,
        ),
      )
    : normalizeMap(definition, where).entries;
  // Registered as an untyped bus: the entries' event names and payloads were typed (and
  // are now checked) where the definition was written.
  const untyped = bus as unknown as EventBus<Record<string, never>>;
  for (const entry of entries) {
    untyped.on(entry.event, entry.handle, {
      priority: entry.priority,
      once: entry.once,
      module,
      name: entry.name ?? telling(entry.handle.name) ?? `${module}#${entry.index}`,
    });
  }
}

function isDefinition(value: unknown): value is ListenersDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { kind?: unknown }).kind === 'keel.listeners' &&
    Array.isArray((value as { entries?: unknown }).entries)
  );
}

function normalizeMap(map: unknown, where: string): ListenersDefinition {
  if (!isPlainObject(map)) {
    throw new E_INVALID_LISTENERS_DEFINITION(
      where,
      `expected an object of event names, got ${describeType(map)}`,
    );
  }
  const entries: ListenerEntry[] = [];
  for (const [event, value] of Object.entries(map)) {
    checkName(event, where);
    const specs: readonly unknown[] = Array.isArray(value) ? value : [value];
    specs.forEach((spec, index) => {
      const at = `${where} for event "${event}" (listener ${index})`.trim();
      entries.push(toEntry(event, spec, index, at));
    });
  }
  return Object.freeze({ kind: 'keel.listeners', entries: Object.freeze(entries) });
}

function toEntry(event: string, spec: unknown, index: number, where: string): ListenerEntry {
  if (typeof spec === 'function') {
    return Object.freeze({
      event,
      handle: spec as ListenerEntry['handle'],
      priority: 0,
      once: false,
      name: undefined,
      index,
    });
  }
  if (!isPlainObject(spec)) {
    throw new E_INVALID_LISTENERS_DEFINITION(
      where,
      `expected a function or { handle, priority?, once?, name? }, got ${describeType(spec)}`,
    );
  }
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.includes(key)) {
      const near = suggest(key, SPEC_KEYS);
      throw new E_INVALID_LISTENERS_DEFINITION(
        where,
        `unknown key "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
      );
    }
  }
  const { handle, priority, once, name } = spec;
  return checkEntry({ event, handle, priority, once, name, index } as ListenerEntry, where);
}

// Entries of a definition may come from another copy of Keel or be hand-made: trust nothing.
function checkEntry(entry: ListenerEntry, where: string): ListenerEntry {
  const { event, handle, priority = 0, once = false, name, index } = entry;
  checkName(event, where);
  if (typeof handle !== 'function') {
    throw new E_INVALID_LISTENERS_DEFINITION(
      where,
      `"handle" must be a function, got ${describeType(handle)}`,
    );
  }
  try {
    checkListenerOptions(event, { priority, once, name });
  } catch (error) {
    throw new E_INVALID_LISTENERS_DEFINITION(where, (error as Error).message).withCause(error);
  }
  return Object.freeze({ event, handle, priority, once, name, index });
}

// `{ handle: () => {} }` names the arrow "handle", which tells nobody which listener failed.
function telling(name: unknown): string | undefined {
  return typeof name === 'string' && name !== '' && name !== 'handle' ? name : undefined;
}

function checkName(event: unknown, where: string): asserts event is string {
  try {
    assertEventName(event);
  } catch (error) {
    throw new E_INVALID_LISTENERS_DEFINITION(where, (error as Error).message).withCause(error);
  }
}
