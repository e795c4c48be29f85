import { ServiceProvider } from '../container/index.js';
import { usesDatabase } from '../db/db-provider.js';
import { type Application, executionContext } from '../kernel/index.js';
import { resolveLazy } from '../modules/define-module.js';
import { type QueueConfig, resolveQueueConfig } from './config.js';
import type { JobClass } from './job.js';
// Types only: the manager loads at boot, a driver when its connection is first used.
import type { QueueManager } from './queue-manager.js';

/** The names `migrate` records; kept here so registering them loads no Kysely. */
const QUEUE_MIGRATION_MODULE = 'keel:queue';
const QUEUE_MIGRATION_NAME = '2026_12_01_000000_create_queue_tables';
const QUEUE_WORKERS_MIGRATION_NAME = '2026_12_02_000000_create_queue_workers_table';
const REORDER_CLAIM_INDEX_MIGRATION_NAME = '2026_12_03_000000_reorder_jobs_claim_index';
const PARTIAL_RELATION_INDEXES_MIGRATION_NAME = '2026_12_04_000000_partial_jobs_relation_indexes';

interface LoadedMigration {
  up(db: never): unknown;
  down?(db: never): unknown;
}

/** A migration whose module (and Kysely with it) loads only when it runs. */
function lazyMigration(load: () => Promise<LoadedMigration>): {
  up(db: never): Promise<void>;
  down(db: never): Promise<void>;
} {
  return {
    async up(db) {
      await (await load()).up(db);
    },
    async down(db) {
      await (await load()).down?.(db);
    },
  };
}

const queueTablesMigration = lazyMigration(
  async () => (await import('./migrations/create-queue-tables.js')).createQueueTables,
);

/** The worker registry's `queue_workers` table (keel queue:workers). */
const queueWorkersMigration = lazyMigration(
  async () => (await import('./migrations/create-queue-workers-table.js')).createQueueWorkersTable,
);

/** Older installs' claim index replaced by one in the claim's own order. */
const reorderClaimIndexMigration = lazyMigration(
  async () => (await import('./migrations/reorder-claim-index.js')).reorderClaimIndex,
);

/** Older installs' batch and parent indexes rebuilt partial (SQLite, PostgreSQL). */
const partialRelationIndexesMigration = lazyMigration(
  async () => (await import('./migrations/partial-relation-indexes.js')).partialRelationIndexes,
);

declare module '../container/container.js' {
  interface ContainerBindings {
    queue: QueueManager;
  }
}

/**
 * Binds `app.make('queue')` (a {@link QueueManager}) from the `queue` config and
 * `QUEUE_CONNECTION`, and registers the job classes modules list in their manifest's `jobs`.
 * Drivers load when a connection is first used; shutdown closes them.
 */
export class QueueProvider extends ServiceProvider<Application> {
  #config: QueueConfig | undefined;
  #manager: QueueManager | undefined;
  /** The worker and scheduler loops `start()` runs under `keel serve`. */
  readonly #inProcess: Array<{ stop(): void; done: Promise<unknown> }> = [];

  override register(): void {
    const app = this.app;
    this.#config = resolveQueueConfig(
      app.config.get('queue' as never),
      (name) => {
        const value = app.env.variable(name);
        return value === '' ? undefined : value;
      },
      usesDatabase(app),
    );
    // The jobs, failed_jobs and job_batches tables, on each database connection a queue
    // connection names (the migration file loads Kysely only when `migrate` runs it).
    const databases = new Set<string | undefined>();
    for (const c of Object.values(this.#config.connections))
      if (c.driver === 'database') databases.add(c.connection);
    if (
      this.#config.connections[this.#config.default]?.driver === 'database' &&
      app.container.bound('db.migrations')
    ) {
      for (const connection of databases) {
        app.make('db.migrations').add({
          module:
            connection === undefined
              ? QUEUE_MIGRATION_MODULE
              : `${QUEUE_MIGRATION_MODULE}:${connection}`,
          migrations: {
            [QUEUE_MIGRATION_NAME]: queueTablesMigration,
            [QUEUE_WORKERS_MIGRATION_NAME]: queueWorkersMigration,
            [REORDER_CLAIM_INDEX_MIGRATION_NAME]: reorderClaimIndexMigration,
            [PARTIAL_RELATION_INDEXES_MIGRATION_NAME]: partialRelationIndexesMigration,
          },
          ...(connection !== undefined ? { connection } : {}),
        });
      }
    }
    app.container.singleton('queue', () => {
      if (!this.#manager) throw new Error('QueueProvider: the queue is created at boot');
      return this.#manager;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const app = this.app;
    const { QueueManager } = await import('./queue-manager.js');
    const manager = new QueueManager({
      config,
      logger: app.logger,
      connection: (name) => app.make('db').connection(name),
      // The dispatching request's id and trace context ride along in the job's meta.
      meta: () => executionContext.capture(),
      // Job middleware (rateLimited, withoutOverlapping) takes its locks from the app.
      locks: () => (app.container.bound('locks') ? app.make('locks') : undefined),
    });
    for (const module of app.modules) {
      const jobs = (await resolveLazy(module.manifest.jobs)) ?? [];
      manager.register(...(jobs as JobClass[]));
    }
    this.#manager = manager;
    const { setCurrentQueue } = await import('./index.js');
    setCurrentQueue(manager);
    // Scheduled jobs (schedule.job(...)) go through this queue.
    if (app.container.bound('scheduler' as never))
      (
        app.make('scheduler' as never) as { useDispatcher(d: (job: never) => unknown): void }
      ).useDispatcher((job) => manager.dispatch(job));
  }

  /**
   * Under `keel serve` (outside production unless `queue.inProcess` says otherwise): a worker
   * on the configured queues and the scheduler, in this process, so one command runs it all.
   */
  override async start(): Promise<void> {
    const app = this.app;
    const manager = this.#manager;
    const config = this.#config;
    if (manager === undefined || config === undefined || app.environment !== 'http') return;
    if (!(config.inProcess ?? app.env.appEnv !== 'production')) return;
    const queues = config.worker.queues ?? [config.defaultQueue];
    const worker = await manager.worker({ queues });
    this.#inProcess.push({ stop: () => worker.stop(), done: worker.run() });
    app.readyMessages.push(
      `queue worker on ${queues.join(', ')} (${config.default}), in this process`,
    );
    if (app.container.bound('scheduler' as never)) {
      const { ScheduleWorker } = await import('./schedule/schedule-worker.js');
      const { EventEmitter } = await import('node:events');
      const scheduler = new ScheduleWorker({
        scheduler: app.make('scheduler' as never),
        logger: app.logger,
        // Signals are the app's to handle: its shutdown stops this loop.
        signals: new EventEmitter(),
      });
      this.#inProcess.push({ stop: () => scheduler.stop('shutdown'), done: scheduler.run() });
      app.readyMessages.push('scheduler running, in this process');
    }
  }

  override async shutdown(): Promise<void> {
    for (const loop of this.#inProcess) loop.stop();
    await Promise.all(this.#inProcess.splice(0).map((loop) => loop.done.catch(() => undefined)));
    const { setCurrentQueue } = await import('./index.js');
    setCurrentQueue(undefined);
    await this.#manager?.close();
  }
}
