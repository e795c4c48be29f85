import type { Connection } from '../db/index.js';
import type { Logger } from '../kernel/logger.js';
import type { LockManager } from '../locks/index.js';
import { durationMs } from './backoff.js';
import { Batch, type Dispatchable, PendingBatch } from './batch.js';
import { type DispatchedFlow, dispatchFlow, PendingChain } from './chain.js';
import type { QueueConfig } from './config.js';
import { JobDispatcher, type PendingDispatch } from './dispatcher.js';
import type { QueueDriver } from './driver.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import type { Job, JobClass } from './job.js';
import type { JobInstrument } from './job-instrument.js';
import { JobRegistry } from './job-registry.js';
import { Worker, type WorkerOptions } from './worker.js';
import { MemoryWorkerRegistry, type WorkerRegistry } from './worker-registry.js';

export interface QueueManagerOptions {
  config: QueueConfig;
  logger: Logger;
  /** The database connection for `database` connections (by name; undefined = default). */
  connection?: (name: string | undefined) => Connection;
  /** The dispatcher's context copied into every job (request id, trace parent). */
  meta?: () => Record<string, string> | undefined;
  /**
   * The app's locks (`app.make('locks')`), handed to workers for job middleware
   * (`rateLimited`, `withoutOverlapping`); asked for when a worker is built.
   */
  locks?: () => LockManager | undefined;
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
  // BullMQ loads only when a redis queue connection is first used.
  redis: async (manager, name) => {
    const config = manager.config.connections[name];
    const { RedisQueueDriver } = await import('./drivers/redis-driver.js');
    return RedisQueueDriver.connect({
      url: config?.driver === 'redis' ? config.url : undefined,
      prefix: config?.driver === 'redis' ? config.prefix : undefined,
      onError: (error) =>
        manager.logger.warn({ err: error, connection: name }, 'queue: Redis connection lost'),
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
  readonly #registries = new Map<string, Promise<WorkerRegistry | undefined>>();
  #instruments: JobInstrument[] = [];

  constructor(options: QueueManagerOptions) {
    this.config = options.config;
    this.#options = options;
  }

  /** The application's logger (drivers report connection trouble through it). */
  get logger(): Logger {
    return this.#options.logger;
  }

  /** The database connection of a `database` queue connection. */
  databaseConnection(name: string | undefined): Connection {
    const connect = this.#options.connection;
    if (connect === undefined) throw new Error('queue: the application has no database');
    return connect(name);
  }

  /** Observe every attempt of the workers built from now on (job logs, metrics, tracing). */
  instrument<State>(instrument: JobInstrument<State>): this {
    this.#instruments = [...this.#instruments, instrument as JobInstrument];
    return this;
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

  /**
   * Queue `job` once the ambient database transaction commits; dropped if it rolls back,
   * queued at once outside a transaction. Same as `dispatch(job).afterCommit()`.
   *
   * @example
   * ```ts
   * await db().transaction(async () => {
   *   await orders.insert(order);
   *   await queue.dispatchAfterCommit(new SendInvoice({ orderId: order.id }));
   * });
   * ```
   */
  dispatchAfterCommit(job: Job): PendingDispatch {
    return this.#dispatcher(this.config.default).dispatchAfterCommit(job);
  }

  /**
   * A batch of jobs, dispatched atomically with its `job_batches` row; see {@link PendingBatch}.
   *
   * @example
   * ```ts
   * const batch = await queue.batch(files.map((f) => new Import({ f }))).name('import')
   *   .then(new Notify({ ok: true })).catch(new Notify({ ok: false })).dispatch();
   * ```
   */
  batch(jobs: readonly Dispatchable[]): PendingBatch {
    const connection = this.config.default;
    return new PendingBatch(this.#dispatcher(connection), () => this.driver(connection), jobs);
  }

  /** A batch's progress (undefined when there is no such batch, or it was pruned). */
  async findBatch(id: string, connection?: string): Promise<Batch | undefined> {
    const driver = await this.driver(connection);
    const record = await driver.batch(id);
    return record === undefined ? undefined : new Batch(record, driver);
  }

  /**
   * Jobs run one after the other, each once the previous completed; a failure stops the chain.
   *
   * @example
   * ```ts
   * await queue.chain([new Charge({ orderId }), new Ship({ orderId })]).dispatch();
   * ```
   */
  chain(jobs: readonly Dispatchable[]): PendingChain {
    return new PendingChain(this.#dispatcher(this.config.default), jobs);
  }

  /**
   * A parent that runs once all its children completed; all are queued atomically.
   *
   * @example
   * ```ts
   * await queue.flow(new Publish({ id }), [new Render({ id, page: 1 }), new Render({ id, page: 2 })]);
   * ```
   */
  flow(parent: Dispatchable, children: readonly Dispatchable[]): Promise<DispatchedFlow> {
    return dispatchFlow(this.#dispatcher(this.config.default), parent, children);
  }

  /**
   * The worker registry of a connection: the `queue_workers` table for a database
   * connection, this process's memory for the others (undefined for `sync`).
   */
  async workerRegistry(name = this.config.default): Promise<WorkerRegistry | undefined> {
    let pending = this.#registries.get(name);
    if (pending === undefined) {
      pending = this.#createRegistry(name);
      this.#registries.set(name, pending);
    }
    return pending;
  }

  async #createRegistry(name: string): Promise<WorkerRegistry | undefined> {
    const config = this.config.connections[name];
    if (config === undefined || config.driver === 'sync') return undefined;
    if (config.driver !== 'database') return new MemoryWorkerRegistry();
    const { DatabaseWorkerRegistry } = await import('./drivers/database-worker-registry.js');
    return new DatabaseWorkerRegistry(this.databaseConnection(config.connection));
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
    const workers = await this.workerRegistry(connection);
    const locks = this.#options.locks?.();
    return new Worker({
      driver: await this.driver(connection),
      ...(this.#instruments.length === 0 ? {} : { instruments: [...this.#instruments] }),
      ...(workers === undefined ? {} : { workers }),
      ...(locks === undefined ? {} : { locks }),
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
      transactions: () => this.#transactions(connection),
    });
  }

  /**
   * The connection whose transaction an afterCommit() dispatch waits for: the queue's own
   * database for a database connection, else the app's default database, if it has one.
   */
  #transactions(connection: string): Connection | undefined {
    const config = this.config.connections[connection];
    try {
      return this.databaseConnection(config?.driver === 'database' ? config.connection : undefined);
    } catch {
      return undefined;
    }
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
