import { join, resolve } from 'node:path';
import { type ContainerBindings, ServiceProvider } from '../../container/index.js';
import type { Application } from '../../kernel/index.js';
import type { RedisPingCheck, RedisSources } from './checks/redis-check.js';
import { HealthAccess } from './health-access.js';
import { type HealthConfig, resolveHealthConfig } from './health-config.js';
import { HealthEndpoints } from './health-endpoints.js';
import { type HealthRateLimiter, InterimRateLimiter } from './interim-rate-limiter.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** The health endpoints' handlers (`/healthz`, `/ready`, `/health`). */
    'health.endpoints': HealthEndpoints;
    /**
     * The limiter guarding them: the rate-limit subsystem's when RateLimitProvider is
     * registered, else the interim in-process one (or a test's, with a clock of its own).
     */
    'health.limiter': HealthRateLimiter;
  }
}

/**
 * Health for the whole application: registers the checks of the subsystems that are
 * configured and do not check themselves (Redis PING, queue backlog, disk space of
 * `var/`, memory, migrations; the database, cache and lock providers register their own),
 * mounts `/healthz`, `/ready` and `/health[/<check>]` on the HTTP kernel, and turns
 * readiness off as soon as the application starts stopping — holding the server open for
 * `health.shutdownDelay` so load balancers see it before the listener closes.
 *
 * A module adds checks of its own from its provider:
 *
 * @example
 * ```ts
 * export class BillingProvider extends ServiceProvider<Application> {
 *   override boot() {
 *     this.app.health.register('billing:gateway', async () => ({
 *       status: (await gateway.ping()) ? 'ok' : 'fail',
 *       message: 'payment gateway',
 *     }), { readiness: false, timeoutMs: 2_000 });
 *   }
 * }
 * ```
 */
export class HealthProvider extends ServiceProvider<Application> {
  #config: HealthConfig | undefined;
  #redis: RedisPingCheck[] = [];

  override register(): void {
    const app = this.app;
    // Validate now: a broken config or allowlist fails the boot, not the first probe.
    const config = resolveHealthConfig(
      app.config.get('health' as never),
      app.config.get('security.health_ip_allowlist' as never),
      (name) => app.env.variable(name),
    );
    this.#config = config;
    const access = new HealthAccess({ allowlist: config.allowlist, apiKey: config.apiKey });
    // RateLimitProvider, registered earlier, binds its shared-store limiter instead.
    if (!app.container.bound('health.limiter'))
      app.container.singleton(
        'health.limiter',
        () => new InterimRateLimiter({ maxClients: config.rateLimitClients }),
      );
    app.container.singleton(
      'health.endpoints',
      () =>
        new HealthEndpoints({
          registry: app.health,
          config,
          limiter: app.make('health.limiter'),
          access,
          state: () => app.lifecycle.state,
          app: {
            name: app.name,
            version: app.config.get('app.version' as never) as string | undefined,
          },
        }),
    );
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    await this.#registerChecks(config);
    if (!this.app.container.bound('http')) return;
    const endpoints = this.app.make('health.endpoints');
    const router = this.app.make('http').router;
    const { liveness, readiness, details } = config.endpoints;
    if (liveness) router.get(liveness.path, endpoints.liveness).name('health.liveness');
    if (readiness) router.get(readiness.path, endpoints.readiness).name('health.readiness');
    if (details) {
      router.get(details.path, endpoints.details).name('health.details');
      const one = `${details.path === '/' ? '' : details.path}/:check`;
      router.get(one, endpoints.detailsOne).name('health.check');
    }
  }

  /**
   * Readiness is already off (the lifecycle is `stopping`); keep serving for the drain
   * delay so load balancers take this instance out before the HTTP provider (which shuts
   * down after this one) stops accepting connections.
   */
  override async shutdown(): Promise<void> {
    const delay = this.#config?.shutdownDelayMs ?? 0;
    if (delay > 0 && this.app.environment === 'http')
      await new Promise((done) => setTimeout(done, delay));
    const clients = this.#redis.splice(0);
    await Promise.all(clients.map((check) => check.close().catch(() => undefined)));
  }

  async #registerChecks(config: HealthConfig): Promise<void> {
    const app = this.app;
    const { redis, queue, disk, memory, migrations } = config.checks;
    if (disk || memory) {
      const { diskSpaceCheck, memoryCheck } = await import('./checks/resource-checks.js');
      if (disk)
        app.health.register('disk', diskSpaceCheck(resolve(app.paths.root, disk.path), disk), {
          readiness: disk.readiness,
        });
      if (memory)
        app.health.register('memory', memoryCheck(memory), { readiness: memory.readiness });
    }
    if (redis) {
      const { RedisPingCheck, redisTargets } = await import('./checks/redis-check.js');
      const targets = redisTargets(await this.#redisSources(config));
      for (const target of targets) {
        const check = new RedisPingCheck(target, redis.timeoutMs);
        this.#redis.push(check);
        const name = targets.length === 1 ? 'redis' : `redis:${target.usedBy.join('+')}`;
        // The registry's own deadline backs up the client's: connect + PING, and a margin.
        app.health.register(name, () => check.run(), {
          readiness: redis.readiness,
          timeoutMs: redis.timeoutMs * 2 + 500,
        });
      }
    }
    const queueManager = bound(app, 'queue');
    if (queue && queueManager) {
      const connection = queue.connection ?? queueManager.config.default;
      const driver = queueManager.config.connections[connection]?.driver;
      // `sync` runs jobs as they are dispatched: it never has a backlog.
      if (driver !== undefined && driver !== 'sync') {
        const { queueBacklogCheck } = await import('./checks/queue-backlog-check.js');
        app.health.register(
          'queue',
          queueBacklogCheck({
            driver: () => queueManager.driver(connection),
            warn: queue.warn,
            fail: queue.fail,
            queues: queue.queues,
          }),
          { readiness: queue.readiness },
        );
      }
    }
    if (migrations && bound(app, 'db')) {
      const { migrationsCheck } = await import('./checks/migrations-check.js');
      const { collectMigrations, MigrationRegistry, MigrationStateStore } = await import(
        '../../db/index.js'
      );
      let entries: ReturnType<typeof collectMigrations> | undefined;
      app.health.register(
        'migrations',
        migrationsCheck({
          manager: () => app.make('db'),
          // Collected once (it imports the migration files); a failure is retried next run.
          entries: () => {
            entries ??= collectMigrations({
              modules: app.modules,
              registry: app.container.bound('db.migrations')
                ? app.make('db.migrations')
                : new MigrationRegistry(),
              defaultConnection: app.make('db').defaultName,
            }).catch((error: unknown) => {
              entries = undefined;
              throw error;
            });
            return entries;
          },
          state: new MigrationStateStore(join(app.paths.state, 'migrations.json')),
          root: app.paths.root,
        }),
        { readiness: migrations.readiness },
      );
    }
  }

  async #redisSources(config: HealthConfig): Promise<RedisSources> {
    const app = this.app;
    const sources: RedisSources = {};
    const cache = bound(app, 'cache');
    if (cache) sources.cache = cache.config;
    const queue = bound(app, 'queue');
    if (queue && config.checks.queue !== false)
      sources.queue = { config: queue.config, connection: config.checks.queue.connection };
    else if (queue) sources.queue = { config: queue.config };
    if (bound(app, 'locks')) {
      const { resolveLocksConfig } = await import('../../locks/index.js');
      sources.locks = resolveLocksConfig(app.config.get('locks' as never), (name) => {
        const value = app.env.variable(name);
        return value === '' ? undefined : value;
      });
    }
    return sources;
  }
}

/** A subsystem's binding, when its provider is registered and built it at boot. */
function bound<K extends 'cache' | 'queue' | 'locks' | 'db'>(
  app: Application,
  key: K,
): ContainerBindings[K] | undefined {
  if (!app.container.bound(key)) return undefined;
  try {
    return app.make(key) as ContainerBindings[K];
  } catch {
    // Bound, but the provider made nothing (not configured).
    return undefined;
  }
}
