import { E_ILLEGAL_STATE_TRANSITION } from './errors.js';

/** The application's lifecycle states, in order; `failed` can be entered from any state. */
export type AppState =
  | 'created'
  | 'registered'
  | 'booted'
  | 'started'
  | 'ready'
  | 'stopping'
  | 'stopped'
  | 'failed';

const NEXT: Record<AppState, readonly AppState[]> = {
  created: ['registered', 'stopping'],
  registered: ['booted', 'stopping'],
  booted: ['started', 'stopping'],
  started: ['ready', 'stopping'],
  ready: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
  failed: ['stopping'],
};

/** A small state machine guarding the order of lifecycle calls. */
export class Lifecycle {
  #state: AppState = 'created';
  readonly #history: Array<{ state: AppState; at: number }> = [
    { state: 'created', at: Date.now() },
  ];
  readonly #listeners = new Set<(state: AppState, previous: AppState) => void>();

  get state(): AppState {
    return this.#state;
  }

  get history(): ReadonlyArray<{ state: AppState; at: number }> {
    return this.#history;
  }

  is(...states: AppState[]): boolean {
    return states.includes(this.#state);
  }

  /** True when `to` is reachable in one step from the current state. */
  can(to: AppState): boolean {
    return to === 'failed' ? this.#state !== 'stopped' : NEXT[this.#state].includes(to);
  }

  transition(to: AppState): void {
    if (!this.can(to)) throw new E_ILLEGAL_STATE_TRANSITION(this.#state, to);
    const previous = this.#state;
    this.#state = to;
    this.#history.push({ state: to, at: Date.now() });
    for (const listener of this.#listeners) listener(to, previous);
  }

  onChange(listener: (state: AppState, previous: AppState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
