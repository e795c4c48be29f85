/**
 * The worker registry: every running worker heartbeats a row (host, pid, queues, counts),
 * `keel queue:workers` lists them and flags the dead ones (no heartbeat for several
 * periods: killed, frozen, or its host gone), and a clean stop removes its row.
 */

/** One worker, as the registry holds it. Times are epoch milliseconds. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly queues: readonly string[];
  readonly startedAt: number;
  readonly lastSeen: number;
  /** Jobs completed and failed for good so far. */
  readonly processed: number;
  readonly failed: number;
  /** The worker's heartbeat period; dead after {@link DEAD_AFTER_BEATS} of them missed. */
  readonly intervalMs: number;
}

export interface WorkerRegistry {
  /** Insert or update the worker's row. */
  beat(info: WorkerInfo): Promise<void>;
  /** Remove the worker's row (clean stop, or pruning a dead one). */
  remove(id: string): Promise<void>;
  /** Every registered worker, oldest first. */
  list(): Promise<WorkerInfo[]>;
}

/** Heartbeat periods a worker may miss before it is reported dead. */
export const DEAD_AFTER_BEATS = 3;

/** The default heartbeat period of the registry (10 s). */
export const DEFAULT_REGISTRY_BEAT_MS = 10_000;

/**
 * Whether `worker` missed more than `beats` heartbeats at `now`.
 *
 * @example
 * ```ts
 * const dead = (await registry.list()).filter((w) => isDeadWorker(w, Date.now()));
 * ```
 */
export function isDeadWorker(worker: WorkerInfo, now: number, beats = DEAD_AFTER_BEATS): boolean {
  return now - worker.lastSeen > Math.max(1, worker.intervalMs) * beats;
}

/**
 * The registry in this process's memory, for the `memory` and `sync` connections: it sees
 * only this process's workers.
 *
 * @example
 * ```ts
 * const worker = new Worker({ driver, registry, logger, workers: new MemoryWorkerRegistry() });
 * ```
 */
export class MemoryWorkerRegistry implements WorkerRegistry {
  readonly #workers = new Map<string, WorkerInfo>();

  async beat(info: WorkerInfo): Promise<void> {
    this.#workers.set(info.id, { ...info, queues: [...info.queues] });
  }

  async remove(id: string): Promise<void> {
    this.#workers.delete(id);
  }

  async list(): Promise<WorkerInfo[]> {
    return [...this.#workers.values()].sort(
      (a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1),
    );
  }
}
