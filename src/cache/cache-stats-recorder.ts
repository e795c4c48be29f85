import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PeriodicSnapshotWriter, processSnapshotFileName } from '../support/index.js';
import type { CacheStatsSnapshot } from './cache-stats.js';

/** Seconds between two snapshot writes when `cache.stats.flushInterval` is not set. */
export const DEFAULT_STATS_FLUSH_SECONDS = 5;

/** The folder of the per-process snapshot files, under the app's `var/state`. */
export const CACHE_STATS_FOLDER = 'cache-stats';

/**
 * The marker `keel cache:stats --reset` leaves: running processes read it and count from
 * that moment on. Its name cannot be taken for a process file (`<host>-<pid>.json`).
 */
export const CACHE_STATS_RESET_FILE = 'reset.json';

/** What one process writes to `var/state/cache-stats/<host>-<pid>.json`. */
export interface ProcessCacheStats {
  pid: number;
  host: string;
  /** ISO timestamps: when the process started recording, and this write. */
  startedAt: string;
  updatedAt: string;
  /** The counters of the pools this process used, since its start or the last reset. */
  pools: CacheStatsSnapshot[];
}

export interface CacheStatsRecorderOptions {
  /** The folder of snapshot files (`var/state/cache-stats`). */
  folder: string;
  /** The counters to write: the manager's `stats()`. */
  stats: () => CacheStatsSnapshot[];
  /** Milliseconds between two writes; 0 writes only on `flush()` and `stop()`. */
  intervalMs: number;
  /** Told about the first write that fails (later failures are not repeated). */
  onError?: (error: unknown) => void;
  now?: () => Date;
  pid?: number;
  host?: string;
}

/**
 * The file name of a process's snapshot: the host name reduced to `[A-Za-z0-9.-]` (it is
 * read back from the file's content, not from its name), then the pid.
 */
export function statsFileName(host: string, pid: number): string {
  return processSnapshotFileName(host, pid);
}

/**
 * Writes this process's cache counters to its own file under `var/state/cache-stats`, every
 * `intervalMs` on an unref'd timer and once more at `stop()`, so that `keel cache:stats`, a
 * separate process, can add up the counters of every serving process and worker. The
 * CacheProvider starts one at boot unless `cache.stats.flushInterval` is off.
 *
 * Only a process whose pools did something writes a file: CLI commands that boot the app
 * without touching a pool leave none. Counters in memory are never reset (metrics read them
 * as monotonic counters); after `cache:stats --reset` the file holds the difference from the
 * counters at the first flush that saw the reset marker.
 *
 * @example
 * ```ts
 * const recorder = new CacheStatsRecorder({
 *   folder: join(app.paths.state, 'cache-stats'),
 *   stats: () => app.make('cache').stats(),
 *   intervalMs: 5_000,
 * });
 * recorder.start();
 * await recorder.stop(); // at shutdown: one last write
 * ```
 */
export class CacheStatsRecorder {
  readonly file: string;
  readonly #options: CacheStatsRecorderOptions;
  readonly #writer: PeriodicSnapshotWriter<Pick<ProcessCacheStats, 'pools'>>;
  /** The reset this process has taken into account (ISO), and the counters at that moment. */
  #resetSeen: string;
  #baseline = new Map<string, CacheStatsSnapshot>();

  constructor(options: CacheStatsRecorderOptions) {
    this.#options = options;
    // The writer takes the folder, interval, clock and identity as they are.
    this.#writer = new PeriodicSnapshotWriter({
      ...options,
      snapshot: () => this.#snapshot(),
      indent: 2,
    });
    // A reset older than this process is already reflected in its (fresh) counters.
    this.#resetSeen = this.#writer.startedAt;
    this.file = this.#writer.file;
  }

  /** Start the periodic writes (no-op when `intervalMs` is 0 or already started). */
  start(): void {
    this.#writer.start();
  }

  /**
   * Write the snapshot now, when a pool has counted something. Resolves to whether a file
   * was written; never rejects (a failure goes to `onError`, once).
   */
  flush(): Promise<boolean> {
    return this.#writer.flush();
  }

  /** Stop the timer and write one last time. */
  stop(): Promise<void> {
    return this.#writer.stop();
  }

  async #snapshot(): Promise<Pick<ProcessCacheStats, 'pools'> | undefined> {
    await this.#applyReset();
    const pools = this.#options
      .stats()
      .map((snapshot) => subtractSnapshot(snapshot, this.#baseline.get(snapshot.pool)));
    return pools.some(hasActivity) ? { pools } : undefined;
  }

  /**
   * When `cache:stats --reset` ran since the last reset this process saw, take the current
   * counters as the new zero. The command writes the marker before deleting the files, so a
   * write that starts after the reset always sees it; one already under way may put back the
   * old counts until the next flush replaces them.
   */
  async #applyReset(): Promise<void> {
    let at: unknown;
    try {
      const marker = JSON.parse(
        await readFile(join(this.#options.folder, CACHE_STATS_RESET_FILE), 'utf8'),
      ) as unknown;
      at = (marker as { at?: unknown } | null)?.at;
    } catch {
      return; // no marker (or an unreadable one): nothing to take into account
    }
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return;
    if (Date.parse(at) <= Date.parse(this.#resetSeen)) return;
    this.#resetSeen = at;
    this.#baseline = new Map(this.#options.stats().map((s) => [s.pool, s]));
  }
}

/** Whether a snapshot counted anything at all. */
export function hasActivity(s: CacheStatsSnapshot): boolean {
  return (
    s.hits + s.misses + s.writes + s.deletes + s.evictions + s.errors + s.stale + s.factoryCalls >
      0 || s.latency.count > 0
  );
}

/** `current` minus `baseline` (counters and histogram), for counting from a reset. */
export function subtractSnapshot(
  current: CacheStatsSnapshot,
  baseline: CacheStatsSnapshot | undefined,
): CacheStatsSnapshot {
  if (baseline === undefined) return current;
  // Never below zero: a store replaced since (its eviction count restarted) counts afresh.
  const minus = (a: number, b: number): number => Math.max(0, a - b);
  return {
    ...current,
    hits: minus(current.hits, baseline.hits),
    misses: minus(current.misses, baseline.misses),
    writes: minus(current.writes, baseline.writes),
    deletes: minus(current.deletes, baseline.deletes),
    evictions: minus(current.evictions, baseline.evictions),
    errors: minus(current.errors, baseline.errors),
    stale: minus(current.stale, baseline.stale),
    factoryCalls: minus(current.factoryCalls, baseline.factoryCalls),
    latency: {
      count: minus(current.latency.count, baseline.latency.count),
      sumMs: minus(current.latency.sumMs, baseline.latency.sumMs),
      buckets: current.latency.buckets.map((n, i) => minus(n, baseline.latency.buckets[i] ?? 0)),
    },
  };
}
