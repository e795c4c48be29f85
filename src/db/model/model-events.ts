import type { Awaitable, ColumnName, ModelChanges, ModelLike } from './model-types.js';

/** The moments a model announces, in the order a save runs them. */
export type ModelEventType =
  | 'saving'
  | 'creating'
  | 'created'
  | 'updating'
  | 'updated'
  | 'saved'
  | 'deleting'
  | 'deleted'
  | 'restoring'
  | 'restored';

/** `{ field: { before, after } }`, typed by the model when it is known. */
export type ChangesOf<I> = [ColumnName<I>] extends [never]
  ? Record<string, { before: unknown; after: unknown }>
  : ModelChanges<I>;

/**
 * What a listener receives. Listeners run inside the transaction of the write (one is opened
 * for the write when there are listeners and none is open), so a row a listener inserts
 * commits or rolls back with the model's own.
 */
export interface ModelEvent<I = ModelLike> {
  readonly type: ModelEventType;
  readonly model: I;
  /** The model's name (`Product`), as in error messages. */
  readonly modelName: string;
  readonly table: string;
  /** The connection name the write runs on. */
  readonly connection: string;
  /**
   * The fields the write changes, before and after: every set attribute for creating/created
   * (before is null), the dirty ones for updating/updated, the soft-delete column for a soft
   * delete and a restore, nothing for a hard delete.
   */
  readonly changes: ChangesOf<I>;
  /** For deleting/deleted: true when the row is soft-deleted (kept with `deleted_at` set). */
  readonly soft: boolean;
}

/** A model event listener; throwing from a `-ing` listener cancels the write. */
export type ModelEventListener<I = ModelLike> = (event: ModelEvent<I>) => Awaitable<void>;

const EVENT_TYPES: ReadonlySet<string> = new Set<ModelEventType>([
  'saving',
  'creating',
  'created',
  'updating',
  'updated',
  'saved',
  'deleting',
  'deleted',
  'restoring',
  'restored',
]);

const globalListeners = new Set<ModelEventListener>();

/**
 * Listen to the events of every model (the audit log subscribes here). Returns the
 * unsubscribe function.
 *
 * @example
 * ```ts
 * onModelEvent(async ({ type, modelName, model, changes }) => {
 *   if (type === 'updated') await AuditEntry.create({ model: modelName, changes });
 * });
 * ```
 */
export function onModelEvent(listener: ModelEventListener): () => void {
  globalListeners.add(listener);
  return () => {
    globalListeners.delete(listener);
  };
}

/** The listeners of one model class. */
export class ModelEvents {
  readonly #listeners = new Map<ModelEventType, Set<ModelEventListener>>();
  #count = 0;

  on(type: ModelEventType, listener: ModelEventListener): () => void {
    if (!EVENT_TYPES.has(type)) throw new TypeError(`Unknown model event "${String(type)}"`);
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    if (!set.has(listener)) {
      set.add(listener);
      this.#count++;
    }
    return () => {
      if (set.delete(listener)) this.#count--;
    };
  }

  /** True when any listener (this model's or a global one) would hear an event. */
  get active(): boolean {
    return this.#count > 0 || globalListeners.size > 0;
  }

  /** Run the model's listeners then the global ones, one after the other, awaiting each. */
  async emit(
    event: Omit<ModelEvent, 'changes' | 'soft'> & {
      changes?: ModelEvent['changes'];
      soft?: boolean;
    },
  ): Promise<void> {
    const own = this.#listeners.get(event.type);
    if ((!own || own.size === 0) && globalListeners.size === 0) return;
    const payload: ModelEvent = Object.freeze({
      ...event,
      changes: event.changes ?? {},
      soft: event.soft ?? false,
    });
    if (own) for (const listener of [...own]) await listener(payload);
    for (const listener of [...globalListeners]) await listener(payload);
  }
}
