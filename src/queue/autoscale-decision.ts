import type { QueueStats } from './driver.js';

/**
 * The autoscaler's decision (`keel queue:work --autoscale=min,max`): a pure function of what
 * the supervisor knows, so that it is tested without processes. See autoscaler.ts.
 */

/** How the supervisor sizes and restarts its workers. Durations in ms. */
export interface AutoscaleOptions {
  /** Workers kept alive at all times (1 to 64). */
  readonly min: number;
  /** Workers never exceeded (min to 64). */
  readonly max: number;
  /** Ready jobs one worker is expected to keep up with: more per worker adds workers. */
  readonly backlogPerWorker: number;
  /** A ready job older than this adds a worker (one per poll while it lasts). */
  readonly maxAgeMs: number;
  /** How long the queues must stay empty (and no scaling happen) before one worker is stopped. */
  readonly cooldownMs: number;
  /** How often the backlog is read. */
  readonly pollMs: number;
  /** The first restart after a crash waits this long; doubled per crash within `crashWindowMs`. */
  readonly restartDelayMs: number;
  /** The cap of that doubling, so a crash loop retries slowly but forever. */
  readonly maxRestartDelayMs: number;
  /** Crashes older than this no longer lengthen the backoff. */
  readonly crashWindowMs: number;
}

export const AUTOSCALE_DEFAULTS = {
  backlogPerWorker: 10,
  maxAgeMs: 30_000,
  cooldownMs: 60_000,
  pollMs: 3_000,
  restartDelayMs: 1_000,
  maxRestartDelayMs: 60_000,
  crashWindowMs: 60_000,
} as const;

/** What the supervisor knows of its workers when it decides. */
export interface ScaleState {
  /** Children alive and not asked to stop. */
  readonly workers: number;
  /** Of those, the ones not yet claiming jobs (still booting). */
  readonly starting: number;
  /** Since when the queues have had no ready job; undefined while they have some. */
  readonly idleSince: number | undefined;
  /** When a worker was last added or stopped by a decision (-Infinity: never). */
  readonly lastScaleAt: number;
  /** When children exited abnormally, oldest first. */
  readonly crashes: readonly number[];
}

export interface ScaleDecision {
  readonly spawn: number;
  readonly stop: number;
  /** Why, for the log. */
  readonly reason: string;
  /** Set when a spawn is held back by the crash backoff: decide again after this long. */
  readonly retryInMs?: number;
}

/** Backoff before the next spawn after `crashes` crashes in the window: doubling, capped. */
export function crashBackoffMs(crashes: number, options: AutoscaleOptions): number {
  if (crashes <= 0) return 0;
  const delay = options.restartDelayMs * 2 ** Math.min(crashes - 1, 30);
  return Math.min(delay, options.maxRestartDelayMs);
}

/** Ready jobs, running jobs and the oldest ready job's age over several queues. */
export function totalLoad(stats: readonly QueueStats[]): {
  ready: number;
  running: number;
  oldestAgeMs: number;
} {
  let ready = 0;
  let running = 0;
  let oldestAgeMs = 0;
  for (const s of stats) {
    ready += s.ready;
    running += s.running;
    oldestAgeMs = Math.max(oldestAgeMs, s.oldestAgeMs);
  }
  return { ready, running, oldestAgeMs };
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${Math.round(ms)}ms`;
}

/**
 * How many workers to add or stop now. Without `stats` (the backlog could not be read) only
 * the bounds are kept. Up: enough workers for `ready / backlogPerWorker`, or one more while the
 * oldest ready job is older than `maxAgeMs` and no new worker is still booting. Down: one at a
 * time, once no job has been ready for `cooldownMs` since the later of going idle and the last
 * scaling. Every spawn, restarts included, waits out the crash backoff.
 *
 * @example
 * ```ts
 * decideScale(
 *   { workers: 1, starting: 0, idleSince: undefined, lastScaleAt: -Infinity, crashes: [] },
 *   [{ queue: 'default', ready: 45, waiting: 45, delayed: 0, running: 1, oldestAgeMs: 2000, failed: 0 }],
 *   { ...AUTOSCALE_DEFAULTS, min: 1, max: 4 },
 *   Date.now(),
 * ); // → { spawn: 3, stop: 0, reason: '45 jobs ready (10 per worker)' }
 * ```
 */
export function decideScale(
  state: ScaleState,
  stats: readonly QueueStats[] | undefined,
  options: AutoscaleOptions,
  now: number,
): ScaleDecision {
  const { workers } = state;
  if (workers > options.max) {
    return { spawn: 0, stop: workers - options.max, reason: `above the maximum of ${options.max}` };
  }
  let target = Math.max(workers, options.min);
  let reason = workers < options.min ? `below the minimum of ${options.min}` : '';
  const load = stats === undefined ? undefined : totalLoad(stats);
  if (load !== undefined) {
    const byBacklog = Math.ceil(load.ready / options.backlogPerWorker);
    if (byBacklog > target) {
      target = byBacklog;
      reason = `${load.ready} jobs ready (${options.backlogPerWorker} per worker)`;
    }
    // Age adds one worker at a time, and not while one is booting: a new worker takes a
    // moment to reach the oldest job, and the age does not drop before it does.
    if (load.oldestAgeMs > options.maxAgeMs && target <= workers && state.starting === 0) {
      target = workers + 1;
      reason = `oldest ready job waiting ${seconds(load.oldestAgeMs)} (over ${seconds(options.maxAgeMs)})`;
    }
    target = Math.min(target, options.max);
  }
  if (target > workers) {
    const crashes = state.crashes.filter((at) => at > now - options.crashWindowMs);
    const last = crashes.at(-1);
    if (last !== undefined) {
      const wait = last + crashBackoffMs(crashes.length, options) - now;
      if (wait > 0) {
        return {
          spawn: 0,
          stop: 0,
          reason: `restart held back ${seconds(wait)} after ${crashes.length} crash(es) (${reason})`,
          retryInMs: wait,
        };
      }
    }
    return { spawn: target - workers, stop: 0, reason };
  }
  if (
    load !== undefined &&
    load.ready === 0 &&
    state.idleSince !== undefined &&
    workers > options.min
  ) {
    const quiet = now - Math.max(state.idleSince, state.lastScaleAt);
    if (quiet >= options.cooldownMs) {
      return { spawn: 0, stop: 1, reason: `no job ready for ${seconds(quiet)}` };
    }
  }
  return { spawn: 0, stop: 0, reason: 'steady' };
}
