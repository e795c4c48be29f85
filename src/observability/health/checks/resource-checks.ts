import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { HealthCheckOutcome, HealthCheckStatus } from '../../../kernel/index.js';
import type { HealthAmount } from '../health-config.js';

/** Warn and fail levels of one measure; a missing level is never reached. */
export interface HealthLevels {
  warn?: HealthAmount | undefined;
  fail?: HealthAmount | undefined;
}

function limitOf(amount: HealthAmount, total: number): number {
  return 'bytes' in amount ? amount.bytes : amount.ratio * total;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function percent(part: number, total: number): string {
  return total > 0 ? `${((part / total) * 100).toFixed(1)}%` : 'n/a';
}

/**
 * Free space of the file system holding `path` (the app's `var/` by default), from
 * `fs.statfs`: the space an unprivileged process may still write (`bavail`), against the
 * `warn` / `fail` levels given as bytes or as a share of the file system's size. A
 * folder not created yet is measured through its nearest existing parent.
 *
 * @example
 * ```ts
 * app.health.register('disk', diskSpaceCheck('/srv/app/var', { warn: { ratio: 0.1 } }));
 * ```
 */
export function diskSpaceCheck(
  path: string,
  levels: HealthLevels,
): () => Promise<HealthCheckOutcome> {
  const target = resolve(path);
  return async () => {
    const { measured, stats } = await statNearest(target);
    const total = Number(stats.blocks) * Number(stats.bsize);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const status: HealthCheckStatus =
      levels.fail && free < limitOf(levels.fail, total)
        ? 'fail'
        : levels.warn && free < limitOf(levels.warn, total)
          ? 'warn'
          : 'ok';
    const below = status === 'ok' ? '' : ` (below the ${status} level)`;
    return {
      status,
      message: `${formatBytes(free)} free of ${formatBytes(total)} (${percent(free, total)})${below}`,
      details: { path: measured, freeBytes: free, totalBytes: total },
    };
  };
}

async function statNearest(
  path: string,
): Promise<{ measured: string; stats: Awaited<ReturnType<typeof statfs>> }> {
  let current = path;
  for (;;) {
    try {
      return { measured: current, stats: await statfs(current) };
    } catch (error) {
      const parent = dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      current = parent;
    }
  }
}

/** The memory a process may use: the cgroup limit when there is one, else the host's. */
export function memoryCeiling(): number {
  const host = totalmem();
  const constrained = (
    process as { constrainedMemory?: () => number | undefined }
  ).constrainedMemory?.();
  // Without a cgroup limit Node reports 0 or a huge sentinel (2^64): the host is the ceiling.
  return constrained !== undefined && constrained > 0 && constrained < host ? constrained : host;
}

/**
 * This process's memory: resident set size against `rss` levels (bytes, or a share of
 * the container's memory limit, else the host's), V8 heap used against `heap` levels
 * (bytes, or a share of the heap limit, `--max-old-space-size`).
 *
 * @example
 * ```ts
 * app.health.register('memory', memoryCheck({ heap: { warn: { ratio: 0.9 } }, rss: {} }), {
 *   readiness: false,
 * });
 * ```
 */
export function memoryCheck(levels: {
  rss: HealthLevels;
  heap: HealthLevels;
}): () => HealthCheckOutcome {
  return () => {
    const { rss } = process.memoryUsage();
    const heap = getHeapStatistics();
    const ceiling = memoryCeiling();
    const measures = [
      { name: 'rss', used: rss, total: ceiling, levels: levels.rss },
      {
        name: 'heap',
        used: heap.used_heap_size,
        total: heap.heap_size_limit,
        levels: levels.heap,
      },
    ];
    let status: HealthCheckStatus = 'ok';
    const over: string[] = [];
    for (const measure of measures) {
      const { fail, warn } = measure.levels;
      const level =
        fail && measure.used > limitOf(fail, measure.total)
          ? 'fail'
          : warn && measure.used > limitOf(warn, measure.total)
            ? 'warn'
            : undefined;
      if (level === undefined) continue;
      over.push(`${measure.name} over the ${level} level`);
      if (level === 'fail' || status === 'ok') status = level;
    }
    const summary = `rss ${formatBytes(rss)} (${percent(rss, ceiling)} of ${formatBytes(ceiling)}), heap ${formatBytes(heap.used_heap_size)} (${percent(heap.used_heap_size, heap.heap_size_limit)} of ${formatBytes(heap.heap_size_limit)})`;
    return {
      status,
      message: over.length > 0 ? `${summary}: ${over.join(', ')}` : summary,
      details: {
        rssBytes: rss,
        memoryLimitBytes: ceiling,
        heapUsedBytes: heap.used_heap_size,
        heapLimitBytes: heap.heap_size_limit,
      },
    };
  };
}
