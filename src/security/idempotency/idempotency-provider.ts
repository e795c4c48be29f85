import { ServiceProvider } from '../../container/index.js';
import { usesDatabase } from '../../db/index.js';
import type { MiddlewareFn } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { outageWarning, redisConnectArgs } from '../../support/index.js';
import { type IdempotencyConfig, resolveIdempotencyConfig } from './config.js';
import { E_IDEMPOTENCY_CONFIG_INVALID } from './errors.js';
import type { IdempotencyOptions, IdempotencyOutcome } from './idempotency-middleware.js';
import type { IdempotencyStore } from './idempotency-store.js';
import {
  createIdempotencyKeysTable,
  IDEMPOTENCY_MIGRATION_MODULE,
  IDEMPOTENCY_MIGRATION_NAME,
} from './migrations/create-idempotency-keys-table.js';

/** What `app.make('idempotency')` gives: the configured store and middleware. */
export interface IdempotencyService {
  readonly config: IdempotencyConfig;
  readonly store: IdempotencyStore;
  /** The middleware with the config's settings, and the alias arguments (`['required', '1h']`). */
  middleware(args?: string[]): MiddlewareFn;
}

declare module '../../container/container.js' {
  interface ContainerBindings {
    idempotency: IdempotencyService;
  }
}

/**
 * Idempotency keys from `security.idempotency` (config/security.ts): binds
 * `app.make('idempotency')` and registers the `idempotent` middleware alias
 * (`idempotent`, `idempotent:required`, `idempotent:24h`). With the database store (the
 * default when the app has a database; `IDEMPOTENCY_STORE` or `store` chooses) it adds the
 * `idempotency_keys` framework migration (`keel:idempotency`), so register it after
 * DatabaseProvider, and `idempotency:prune` deletes expired rows. The store's module, and
 * its client library, load at boot only when configured.
 *
 * @example
 * ```ts
 * router.post('/payments', pay).middleware(['auth', 'idempotent:required']);
 * ```
 */
export class IdempotencyProvider extends ServiceProvider<Application> {
  #config: IdempotencyConfig | undefined;
  #service: IdempotencyService | undefined;

  override register(): void {
    const app = this.app;
    const config = resolveIdempotencyConfig(
      app.config.get('security.idempotency' as never),
      (name) => {
        const value = app.env.variable(name);
        return value === '' ? undefined : value;
      },
      usesDatabase(app) && app.container.bound('db.migrations'),
    );
    this.#config = config;
    if (config.store === 'database') {
      if (!app.container.bound('db.migrations'))
        throw new E_IDEMPOTENCY_CONFIG_INVALID(
          'security.idempotency.store',
          'the database store needs DatabaseProvider, registered before IdempotencyProvider',
        );
      app.make('db.migrations').add({
        module: IDEMPOTENCY_MIGRATION_MODULE,
        migrations: {
          [IDEMPOTENCY_MIGRATION_NAME]: createIdempotencyKeysTable(config.database.table),
        },
        ...(config.database.connection ? { connection: config.database.connection } : {}),
      });
    }
    app.container.singleton('idempotency', () => {
      if (!this.#service) throw new Error('IdempotencyProvider: the store is created at boot');
      return this.#service;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const store = await this.#store(config);
    const { idempotentAlias } = await import('./idempotency-middleware.js');
    const onOutcome = this.#metrics();
    const base = (): IdempotencyOptions => ({
      ...(onOutcome ? { onOutcome } : {}),
      store,
      retentionMs: config.retentionMs,
      lockTimeoutMs: config.lockTimeoutMs,
      maxResponseBytes: config.maxResponseBytes,
      header: config.header,
      replayedHeader: config.replayedHeader,
      replayHeaders: config.replayHeaders,
      scope: config.scope,
      required: config.required,
    });
    const alias = idempotentAlias(base);
    this.#service = { config, store, middleware: (args = []) => alias(args) };
    if (this.app.container.bound('http'))
      this.app.make('http').middleware.register('idempotent', alias);
  }

  /** `keel_idempotency_requests_total{outcome}`, when the app has metrics. */
  #metrics(): ((outcome: IdempotencyOutcome) => void) | undefined {
    if (!this.app.container.bound('metrics')) return undefined;
    const counter = this.app.make('metrics').counter({
      name: 'idempotency_requests_total',
      help: 'Requests that carried an idempotency key, by outcome',
      labelNames: ['outcome'],
    });
    const children = new Map<IdempotencyOutcome, { inc(): void }>();
    return (outcome) => {
      let child = children.get(outcome);
      if (child === undefined) {
        child = counter.labels(outcome);
        children.set(outcome, child);
      }
      child.inc();
    };
  }

  async #store(config: IdempotencyConfig): Promise<IdempotencyStore> {
    if (config.store === 'memory') {
      const { MemoryIdempotencyStore } = await import('./stores/memory-idempotency-store.js');
      return new MemoryIdempotencyStore();
    }
    if (config.store === 'database') {
      const { DatabaseIdempotencyStore } = await import('./stores/database-idempotency-store.js');
      return new DatabaseIdempotencyStore({
        connection: this.app.make('db').connection(config.database.connection),
        table: config.database.table,
      });
    }
    const { RedisIdempotencyStore } = await import('./stores/redis-idempotency-store.js');
    const outage = outageWarning((error) =>
      this.app.logger.warn(
        { err: error },
        'idempotency: the Redis store lost its connection (reconnecting; not logged again until it is back)',
      ),
    );
    const store = await RedisIdempotencyStore.connect({
      ...redisConnectArgs(config.redis),
      prefix: config.redis.prefix,
      onError: outage.onError,
    });
    outage.watch(store.client);
    return store;
  }

  override async shutdown(): Promise<void> {
    await this.#service?.store.close?.();
    this.#service = undefined;
  }
}
