import { ServiceProvider } from '../../container/index.js';
import type { Application } from '../../kernel/index.js';
import { createRedisClient } from '../../support/index.js';
import { ErrorThrottle } from './error-throttle.js';
import { E_RATE_LIMIT_CONFIG_INVALID } from './errors.js';
import { RateLimitHealthLimiter } from './health-rate-limiter.js';
import {
  createRateLimitsTableMigration,
  RATE_LIMIT_MIGRATION_MODULE,
  RATE_LIMITS_MIGRATION_NAME,
} from './migrations/create-rate-limits-table.js';
import { type RateLimitConfig, resolveRateLimitConfig } from './rate-limit-config.js';
import { defaultUserId, type UserIdResolver } from './rate-limit-key.js';
import type { RateLimitStore } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';
import { DEFAULT_LIMITER, throttle, throttlePolicy } from './throttle-middleware.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** Named and ad hoc rate limiters in the configured store (`security.rate_limit`). */
    'rate.limiter': RateLimiter;
  }
}

/** `throttle:login` unless the config says otherwise: 5 attempts a minute per address. */
export const LOGIN_LIMITER = 'login';
const DEFAULT_LOGIN_POLICY = { points: 5, duration: 60, key: 'ip' } as const;

/** Store failures are logged once per outage, then once when the store is back. */
const OUTAGE_LOG = 'rate-limit: the store failed';

/**
 * Rate limiting from `security.rate_limit` (config/security.ts): binds `rate.limiter`,
 * registers the `throttle` and `rate_limit` middleware aliases (`throttle`,
 * `throttle:login`, `throttle:60,60`), counts error responses for the adaptive error
 * throttle, and takes over the health endpoints' limiter (`health.limiter`). Register it
 * after DatabaseProvider (the `database` store's `rate_limits` migration goes to
 * `db.migrations`), before SecurityGroupsProvider (the `api` group lists `throttle` when it
 * exists at its boot) and before HealthProvider (which then keeps this provider's
 * `health.limiter`, and shuts down first, while the store is still open). The store's
 * module and client load on the first hit; Redis' client is closed at shutdown.
 *
 * Two limiters always exist: `default` (`RATE_LIMIT_ATTEMPTS` per `RATE_LIMIT_WINDOW`
 * seconds, for `throttle`) and `login` (5 a minute per address, for `throttle:login`);
 * `security.rate_limit.limiters` may redefine either.
 *
 * @example
 * ```ts
 * // config/security.ts
 * export default {
 *   rate_limit: {
 *     store: 'redis',
 *     limiters: { login: { points: 5, duration: 60, key: 'ip', blockDuration: 300 } },
 *   },
 * };
 * ```
 */
export class RateLimitProvider extends ServiceProvider<Application> {
  #config: RateLimitConfig | undefined;
  #limiter: RateLimiter | undefined;
  #userId: UserIdResolver = defaultUserId;

  override register(): void {
    const app = this.app;
    // Validate now: a broken config fails the boot, not the first request.
    const config = resolveRateLimitConfig(
      app.config.get('security.rate_limit' as never),
      (name) => {
        const value = app.env.variable(name);
        return value === '' ? undefined : value;
      },
    );
    this.#config = config;
    if (config.user) this.#userId = config.user;
    if (config.store === 'database') {
      if (!app.container.bound('db.migrations'))
        throw new E_RATE_LIMIT_CONFIG_INVALID(
          'security.rate_limit.store',
          'the database store needs DatabaseProvider, registered before RateLimitProvider',
        );
      app.make('db.migrations').add({
        module: RATE_LIMIT_MIGRATION_MODULE,
        migrations: { [RATE_LIMITS_MIGRATION_NAME]: createRateLimitsTableMigration },
        ...(config.database.connection ? { connection: config.database.connection } : {}),
      });
    }
    app.container.singleton('rate.limiter', () => this.#build(config));
    // The health endpoints count in the rate-limit store: HealthProvider, registered after
    // this one, keeps this binding; registered before, it is overwritten here.
    app.container.singleton('health.limiter', () => {
      // The fallback during a store outage is the interim limiter, sized as configured.
      const health = app.config.get('health' as never) as
        | { rateLimitClients?: unknown }
        | undefined;
      const maxClients = health?.rateLimitClients;
      return new RateLimitHealthLimiter(
        app.make('rate.limiter'),
        typeof maxClients === 'number' && maxClients > 0 ? { maxClients } : {},
      );
    });
  }

  override boot(): void {
    const config = this.#config;
    if (!config) return;
    const limiter = this.app.make('rate.limiter');
    this.#metrics(limiter, config.store);
    if (!this.app.container.bound('http')) return;
    const kernel = this.app.make('http');
    const errors = config.errors.enabled
      ? new ErrorThrottle({
          limiter,
          config: config.errors,
          userId: this.#userId,
          onError: (error) =>
            this.app.logger.debug({ err: error }, 'rate-limit: an error response was not counted'),
        })
      : undefined;
    const options = { limiter, userId: this.#userId, errors };
    const factory = (args: string[]) => throttle(options, throttlePolicy(limiter, args));
    kernel.middleware.register('throttle', factory);
    kernel.middleware.register('rate_limit', factory);
    if (errors) kernel.instrument(errors.instrument());
  }

  /** `keel_rate_limit_decisions_total` and `keel_rate_limit_store_failures_total`. */
  #metrics(limiter: RateLimiter, store: string): void {
    if (!this.app.container.bound('metrics')) return;
    const metrics = this.app.make('metrics');
    const decisions = metrics.counter({
      name: 'rate_limit_decisions_total',
      help: 'Rate-limit decisions by limiter, outcome (allowed, refused) and who answered (the store, or the memory fallback during an outage)',
      labelNames: ['limiter', 'outcome', 'store'],
    });
    const failures = metrics.counter({
      name: 'rate_limit_store_failures_total',
      help: 'Calls to the rate-limit store that failed (answered by the fallback, or refused with 503)',
      labelNames: ['store'],
    });
    const failed = failures.labels(store);
    limiter.observe({
      decision: (result) =>
        decisions
          .labels(
            result.limiter,
            result.allowed ? 'allowed' : 'refused',
            result.degraded ? 'fallback' : store,
          )
          .inc(),
      failure: () => failed.inc(),
    });
  }

  override async shutdown(): Promise<void> {
    await this.#limiter?.close();
    this.#limiter = undefined;
  }

  #build(config: RateLimitConfig): RateLimiter {
    let reported = false;
    const limiter = new RateLimiter({
      store: { name: config.store, load: () => this.#store(config) },
      prefix: config.prefix,
      limiters: config.limiters,
      onStoreError: config.onStoreError,
      onStoreFailure: (error, name) => {
        if (reported) return;
        reported = true;
        const fallback =
          config.onStoreError === 'open'
            ? 'answering from per-process memory limiters until it is back'
            : 'refusing requests with 503 until it is back';
        this.app.logger.warn(
          { err: error, limiter: name, store: config.store },
          `${OUTAGE_LOG} (${fallback}; not logged again until then)`,
        );
      },
      onStoreRecovered: () => {
        reported = false;
        this.app.logger.info({ store: config.store }, 'rate-limit: the store answers again');
      },
    });
    if (!limiter.has(DEFAULT_LIMITER))
      limiter.define(DEFAULT_LIMITER, { points: config.attempts, duration: config.window });
    if (!limiter.has(LOGIN_LIMITER)) limiter.define(LOGIN_LIMITER, DEFAULT_LOGIN_POLICY);
    this.#limiter = limiter;
    return limiter;
  }

  async #store(config: RateLimitConfig): Promise<RateLimitStore> {
    if (config.store === 'memory') {
      const { MemoryRateLimitStore } = await import('./stores/memory-rate-limit-store.js');
      return new MemoryRateLimitStore();
    }
    if (config.store === 'database') {
      if (!this.app.container.bound('db'))
        throw new E_RATE_LIMIT_CONFIG_INVALID(
          'security.rate_limit.store',
          'the database store needs a configured database',
        );
      const { DatabaseRateLimitStore } = await import('./stores/database-rate-limit-store.js');
      return new DatabaseRateLimitStore({
        connection: this.app.make('db').connection(config.database.connection),
      });
    }
    const { RedisRateLimitStore } = await import('./stores/redis-rate-limit-store.js');
    const { url, host, port, password, db, commandTimeoutMs } = config.redis;
    const auth = { ...(password === undefined ? {} : { password }), db };
    // Fails fast while Redis is down (the limiter then falls back or refuses, per
    // onStoreError) and reconnects by itself.
    const client = await createRedisClient({
      url,
      options: url ? auth : { host, port, ...auth },
      commandTimeoutMs,
      connectTimeoutMs: 1_000,
    });
    return new RedisRateLimitStore({ client, ownsClient: true });
  }
}
