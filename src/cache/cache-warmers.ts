import { performance } from 'node:perf_hooks';
import type { Awaitable } from '../support/index.js';
import type { Cache } from './cache.js';
import {
  E_CACHE_POOL_NOT_FOUND,
  E_CACHE_WARMER_DUPLICATE,
  E_CACHE_WARMER_INVALID,
  E_CACHE_WARMER_NOT_FOUND,
} from './errors.js';

/** What a warmer reports while it runs: `keel cache:warm` draws it as a progress bar. */
export interface WarmProgress {
  /** Announce how many keys this warmer is about to write. */
  total(keys: number): void;
  /** Count keys written (default 1). */
  tick(keys?: number): void;
}

/**
 * A cache warmer: fills one pool with the keys that are expensive to compute on a cold
 * cache (after a deploy, a `cache:clear`, a Redis restart).
 */
export interface CacheWarmerDefinition {
  /** Unique; prefix it with the module (`catalog:products`). */
  name: string;
  /** The pool it fills; default `data`. */
  pool?: string;
  /** One line for `keel cache:warm --list`. */
  description?: string;
  /**
   * Write the keys. Return how many were written, or report them with `progress.tick()`.
   * A warmer may run again at any time: make it idempotent (`set`, not `add`).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `warm` be an async function with no return
  warm(cache: Cache, progress: WarmProgress): Awaitable<number | void>;
}

/** A registered warmer. */
export interface CacheWarmer extends CacheWarmerDefinition {
  readonly pool: string;
}

/** The outcome of one warmer's run. */
export interface CacheWarmResult {
  name: string;
  pool: string;
  ok: boolean;
  /** Keys written: the number `warm` returned, else the ticks it reported. */
  keys: number;
  durationMs: number;
  /** The error it threw (`ok: false`). */
  error?: unknown;
}

/** Which warmers to run, and who watches them run. */
export interface CacheWarmOptions {
  /** Only the warmers of this pool. */
  pool?: string;
  /** Only these warmers (by name); an unknown name fails before any warmer runs. */
  only?: readonly string[];
  /** Told when each warmer starts, announces its total, ticks and ends. */
  observer?: CacheWarmObserver;
}

export interface CacheWarmObserver {
  start?(warmer: CacheWarmer): void;
  total?(warmer: CacheWarmer, keys: number): void;
  tick?(warmer: CacheWarmer, keys: number): void;
  finish?(result: CacheWarmResult): void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$/;

/**
 * The warmers modules registered, in registration order: `app.make('cache').warmers`.
 * Register them with {@link CacheManager.warmer}; run them with `keel cache:warm` or
 * {@link CacheManager.warm}.
 */
export class CacheWarmers {
  readonly #warmers = new Map<string, CacheWarmer>();
  readonly #pools: () => string[];

  /** `pools`: the configured pool names, to refuse a warmer of an unknown pool early. */
  constructor(pools: () => string[]) {
    this.#pools = pools;
  }

  /** Register a warmer; an invalid or duplicate one throws at once, at boot. */
  add(definition: CacheWarmerDefinition): CacheWarmer {
    const name = (definition as Partial<CacheWarmerDefinition> | null)?.name;
    if (typeof name !== 'string' || !NAME.test(name))
      throw new E_CACHE_WARMER_INVALID(
        typeof name === 'string' ? name : String(name),
        'the name must be 1–100 letters, digits or `:._-`, starting with a letter or digit',
      );
    if (typeof definition.warm !== 'function')
      throw new E_CACHE_WARMER_INVALID(name, '`warm` is not a function');
    if (this.#warmers.has(name)) throw new E_CACHE_WARMER_DUPLICATE(name);
    const pool = definition.pool ?? 'data';
    const pools = this.#pools();
    if (!pools.includes(pool)) throw new E_CACHE_POOL_NOT_FOUND(String(pool), pools);
    const warmer: CacheWarmer = Object.freeze({ ...definition, name, pool });
    this.#warmers.set(name, warmer);
    return warmer;
  }

  /** Every warmer, in registration order. */
  all(): CacheWarmer[] {
    return [...this.#warmers.values()];
  }

  /** The warmers a `pool` / `only` filter selects, in registration order. */
  select(options: Pick<CacheWarmOptions, 'pool' | 'only'> = {}): CacheWarmer[] {
    const { pool, only } = options;
    if (pool !== undefined && !this.#pools().includes(pool))
      throw new E_CACHE_POOL_NOT_FOUND(pool, this.#pools());
    for (const name of only ?? []) {
      if (!this.#warmers.has(name))
        throw new E_CACHE_WARMER_NOT_FOUND(name, [...this.#warmers.keys()]);
    }
    return this.all().filter(
      (w) =>
        (pool === undefined || w.pool === pool) && (only === undefined || only.includes(w.name)),
    );
  }

  /**
   * Run the selected warmers one after the other against their pools. A warmer that throws
   * is reported (`ok: false`) and the next one runs.
   */
  async run(
    pool: (name: string) => Cache,
    options: CacheWarmOptions = {},
  ): Promise<CacheWarmResult[]> {
    const results: CacheWarmResult[] = [];
    const observer = options.observer ?? {};
    for (const warmer of this.select(options)) {
      let ticked = 0;
      const progress: WarmProgress = {
        total: (keys) => observer.total?.(warmer, keys),
        tick: (keys = 1) => {
          ticked += keys;
          observer.tick?.(warmer, keys);
        },
      };
      observer.start?.(warmer);
      const started = performance.now();
      let result: CacheWarmResult;
      try {
        const returned = await warmer.warm(pool(warmer.pool), progress);
        result = {
          name: warmer.name,
          pool: warmer.pool,
          ok: true,
          keys: keysOf(returned, ticked),
          durationMs: 0,
        };
      } catch (error) {
        result = {
          name: warmer.name,
          pool: warmer.pool,
          ok: false,
          keys: ticked,
          durationMs: 0,
          error,
        };
      }
      result.durationMs = performance.now() - started;
      results.push(result);
      observer.finish?.(result);
    }
    return results;
  }
}

function keysOf(returned: unknown, ticked: number): number {
  return typeof returned === 'number' && Number.isSafeInteger(returned) && returned >= 0
    ? returned
    : ticked;
}
