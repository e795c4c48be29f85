import type { Connection } from '../db/index.js';
import type { Logger } from '../kernel/logger.js';
import { durationMs } from './backoff.js';
import type { QueueConfig } from './config.js';
import { JobDispatcher, type PendingDispatch } from './dispatcher.js';
import type { QueueDriver } from './driver.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import type { Job, JobClass } from './job.js';
import { JobRegistry } from './job-registry.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface QueueManagerOptions {
  config: QueueConfig;
  logger: Logger;
  /** The database connection for `database` connections (by name; undefined = default). */
  connection?: (name: string | undefined) => Connection;
  /** The dispatcher's context copied into every job (request id, trace parent). */
  meta?: () => Record<string, string> | undefined;
}

/** A driver factory for a connection config's driver name, loaded on first use. */
type DriverLoader = (manager: QueueManager, name: string) => Promise<QueueDriver>;

const loaders: Record<string, DriverLoader> = {
  // Kysely and the SQL driver load only when a database connection is first used.
  database: async (manager, name) => {
    const config = manager.config.connections[name];
    const { DatabaseQueueDriver } = await import('./drivers/database-driver.js');
    return new DatabaseQueueDriver({
      connection: manager.databaseConnection(
        config?.driver === 'database' ? config.connection : undefined,
      ),
    });
  },
};

/**
 * Let a driver package (the database driver, BullMQ's) plug into `QueueManager`, keeping its
 * dependencies out of the boot of apps that do not use it.
 */
export function registerQueueDriver(driver: string, loader: DriverLoader): void {
  loaders[driver] = loader;
}

/**
 * The application's queue: `app.make('queue')`. It registers job classes, dispatches jobs
 * on the configured connection and builds workers. A `sync` connection runs each job in
 * the dispatching process, right after it is queued (development and tests).
 *
 * @example
 * ```ts
 * const queue = app.make('queue');
 * queue.register(SendInvoice);
 * await queue.dispatch(new SendInvoice({ orderId: 42 })).onQueue('invoices');
 * const worker = queue.worker({ queues: ['invoices', 'default'], concurrency: 10 });
 * ```
 */
export class QueueManager {
  readonly config: QueueConfig;
  readonly registry = new JobRegistry();
  readonly #options: QueueManagerOptions;
  readonly #drivers = new Map<string, Promise<QueueDriver>>();

  constructor(options: QueueManagerOptions) {
    this.config = options.config;
    this.#options = options;
  }

  /** The database connection of a `database` queue connection. */
  databaseConnection(name: string | undefined): Connection {
    const connect = this.#options.connection;
    if (connect === undefined) throw new Error('queue: the application has no database');
    return connect(name);
  }

  /** Register job classes (modules' jobs/ folders are registered at boot). */
  register(...classes: JobClass[]): this {
    this.registry.register(...classes);
    return this;
  }

  /**
   * Queue `job` on the default connection; configure, then await.
   *
   * @example
   * ```ts
   * await queue.dispatch(new SendInvoice({ orderId })).delay('5m');
   * ```
   */
  dispatch(job: Job): PendingDispatch {
    return this.#dispatcher(this.config.default).dispatch(job);
  }

  /** Queue several jobs atomically (all or none). */
  dispatchMany(jobs: readonly (Job | PendingDispatch)[]): Promise<string[]> {
    return this.#dispatcher(this.config.default).dispatchMany(jobs);
  }

  /** The driver of a connection (default: the default one), created on first use. */
  async driver(name = this.config.default): Promise<QueueDriver> {
    let pending = this.#drivers.get(name);
    if (pending === undefined) {
      pending = this.#create(name);
      this.#drivers.set(name, pending);
    }
    return pending;
  }

  /**
   * A worker on a connection, with the config's worker defaults under `options`.
   *
   * @example
   * ```ts
   * const summary = await (await queue.worker({ stopWhenEmpty: true })).run();
   * ```
   */
  async worker(
    options: Partial<Omit<WorkerOptions, 'driver' | 'registry'>> & { connection?: string } = {},
  ): Promise<Worker> {
    const { connection, ...rest } = options;
    const w = this.config.worker;
    return new Worker({
      driver: await this.driver(connection),
      registry: this.registry,
      logger: this.#options.logger,
      concurrency: w.concurrency,
      leaseMs: durationMs(w.lease),
      sleepMs: durationMs(w.sleep),
      shutdownMs: durationMs(w.shutdown),
      ...rest,
    });
  }

  async close(): Promise<void> {
    const drivers = [...this.#drivers.values()];
    this.#drivers.clear();
    for (const driver of drivers) await (await driver.catch(() => undefined))?.close();
  }

  #dispatcher(connection: string): JobDispatcher {
    const sync = this.config.connections[connection]?.driver === 'sync';
    return new JobDispatcher({
      driver: () => this.driver(connection),
      ...(sync ? { afterEnqueue: () => this.#drain(connection) } : {}),
      registry: this.registry,
      defaultQueue: this.config.defaultQueue,
      maxPayloadBytes: this.config.maxPayloadBytes,
      ...(this.#options.meta ? { meta: this.#options.meta } : {}),
    });
  }

  /** Run everything queued on a sync connection, in this process, now. */
  async #drain(connection: string): Promise<void> {
    const driver = await this.driver(connection);
    const queues = (await driver.stats()).map((s) => s.queue);
    if (queues.length === 0) return;
    const worker = await this.worker({ connection, queues, stopWhenEmpty: true, sleepMs: 1 });
    await worker.run();
  }

  async #create(name: string): Promise<QueueDriver> {
    const config = this.config.connections[name];
    if (config === undefined) throw new Error(`queue: no connection named "${name}"`);
    if (config.driver === 'memory' || config.driver === 'sync') return new MemoryQueueDriver();
    const loader = loaders[config.driver];
    if (loader === undefined) throw new Error(`queue: no driver "${config.driver}" is installed`);
    return loader(this, name);
  }
}
