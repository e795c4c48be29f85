import { parseDuration } from '../support/index.js';
import type { Backoff, Duration } from './job.js';

/** A duration in ms (numbers are ms, strings are parsed: `'5m'`). */
export function durationMs(value: Duration): number {
  return typeof value === 'number' ? value : parseDuration(value);
}

/** A job's backoff as the record stores it: a list of ms and whether it grows exponentially. */
export function resolveBackoff(backoff: Backoff | undefined): {
  backoffMs: number[];
  backoffExponential: boolean;
} {
  if (backoff === undefined) return { backoffMs: [0], backoffExponential: false };
  if (Array.isArray(backoff)) {
    const list = (backoff as readonly Duration[]).map(durationMs);
    return { backoffMs: list.length > 0 ? list : [0], backoffExponential: false };
  }
  if (typeof backoff === 'object') {
    const b = backoff as { type: 'fixed' | 'exponential'; delay: Duration };
    return { backoffMs: [durationMs(b.delay)], backoffExponential: b.type === 'exponential' };
  }
  return { backoffMs: [durationMs(backoff as Duration)], backoffExponential: false };
}

/** Longest wait between two attempts, whatever the backoff says (a day). */
export const MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;

/**
 * The wait before retry number `retry` (1 = after the first failure). Exponential backoff
 * doubles from the base and takes "full jitter" (a random point between half and all of
 * it), so retries of jobs that failed together spread out instead of failing together again.
 *
 * @example
 * ```ts
 * backoffDelay({ backoffMs: [1000], backoffExponential: true }, 3); // 2000–4000
 * ```
 */
export function backoffDelay(
  record: { backoffMs: readonly number[]; backoffExponential: boolean },
  retry: number,
  random: () => number = Math.random,
): number {
  const list = record.backoffMs.length > 0 ? record.backoffMs : [0];
  if (!record.backoffExponential) {
    return Math.min(list[Math.min(retry, list.length) - 1] ?? 0, MAX_BACKOFF_MS);
  }
  const full = Math.min((list[0] ?? 0) * 2 ** (retry - 1), MAX_BACKOFF_MS);
  return Math.round(full / 2 + random() * (full / 2));
}
