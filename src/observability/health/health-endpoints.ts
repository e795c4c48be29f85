import type { HttpContext } from '../../http/index.js';
import type {
  AppState,
  HealthCheckRun,
  HealthCheckStatus,
  HealthRegistry,
} from '../../kernel/index.js';
import {
  E_HEALTH_CHECK_NOT_FOUND,
  E_HEALTH_FORBIDDEN,
  E_HEALTH_RATE_LIMITED,
  E_HEALTH_UNAUTHORIZED,
} from './errors.js';
import { HealthAccess } from './health-access.js';
import type { HealthConfig, HealthEndpointSettings } from './health-config.js';
import type { HealthRateLimiter, RateLimitDecision } from './interim-rate-limiter.js';

export interface HealthEndpointsOptions {
  registry: HealthRegistry;
  config: HealthConfig;
  limiter: HealthRateLimiter;
  /** Built from `config` (allowlist, key) unless given. */
  access?: HealthAccess;
  /** The application's lifecycle state, read on each readiness request. */
  state: () => AppState;
  app: { name: string; version: string | undefined };
}

/** One check as `/health` shows it. */
export interface HealthCheckView extends HealthCheckRun {
  /** Whether it counts towards `/ready`. */
  readiness: boolean;
}

/** The body of `/health` (and, with one check, of `/health/<check>`). */
export interface HealthDocument {
  status: HealthCheckStatus;
  /** Whether `/ready` would answer 200 now. */
  ready: boolean;
  app: { name: string; version: string | undefined; state: AppState };
  checks: HealthCheckView[];
}

/** The body of `/ready`. */
export interface ReadinessDocument {
  status: 'ok' | 'fail' | 'starting' | 'shutting down';
  /** Readiness checks by name, with their status (absent while starting or stopping). */
  checks?: Record<string, HealthCheckStatus>;
  /** The readiness checks that failed. */
  failed?: string[];
}

const NO_STORE = 'no-store';

function notReady(state: AppState): ReadinessDocument {
  if (state === 'stopping' || state === 'stopped') return { status: 'shutting down' };
  return { status: state === 'failed' ? 'fail' : 'starting' };
}

function worst(runs: readonly HealthCheckRun[]): HealthCheckStatus {
  if (runs.some((r) => r.status === 'fail')) return 'fail';
  return runs.some((r) => r.status === 'warn') ? 'warn' : 'ok';
}

/**
 * The handlers behind `/healthz` (liveness: the process answers, no check runs),
 * `/ready` (readiness: every readiness check passes, and the app is neither starting nor
 * stopping) and `/health[/<check>]` (every check with its status, latency and message;
 * allowlisted addresses or the bearer key only). Every answer is JSON with
 * `Cache-Control: no-store`, rate limited per client address by the interim limiter.
 *
 * @example
 * ```ts
 * const endpoints = new HealthEndpoints({ registry: app.health, config, limiter, state, app });
 * router.get('/ready', endpoints.readiness);
 * ```
 */
export class HealthEndpoints {
  readonly #registry: HealthRegistry;
  readonly #config: HealthConfig;
  readonly #limiter: HealthRateLimiter;
  readonly #access: HealthAccess;
  readonly #state: () => AppState;
  readonly #app: { name: string; version: string | undefined };
  /** Probes arriving together share one run of the readiness checks. */
  #readinessRun: Promise<HealthCheckRun[]> | undefined;

  constructor(options: HealthEndpointsOptions) {
    this.#registry = options.registry;
    this.#config = options.config;
    this.#limiter = options.limiter;
    this.#state = options.state;
    this.#app = options.app;
    this.#access =
      options.access ??
      new HealthAccess({ allowlist: options.config.allowlist, apiKey: options.config.apiKey });
  }

  /** `GET /healthz`: 200 while the process serves requests, shutting down included. */
  readonly liveness = (ctx: HttpContext): void | Promise<void> => {
    const guarded = this.#guard(ctx, this.#config.endpoints.liveness);
    if (guarded instanceof Promise)
      return guarded.then(() => {
        ctx.json({ status: 'ok' });
      });
    ctx.json({ status: 'ok' });
  };

  /** `GET /ready`: 200 when ready, else 503 with what is wrong. */
  readonly readiness = async (ctx: HttpContext): Promise<void> => {
    const endpoint = await this.#guard(ctx, this.#config.endpoints.readiness);
    if (this.#access.restricted && !this.#access.allows(ctx.ip))
      throw new E_HEALTH_FORBIDDEN(endpoint.path);
    if (this.#state() !== 'ready') {
      ctx.json(notReady(this.#state()), 503);
      return;
    }
    const runs = await this.#runReadiness();
    // Shutdown may have begun while the checks ran: the state now wins over their result.
    if (this.#state() !== 'ready') {
      ctx.json(notReady(this.#state()), 503);
      return;
    }
    const failed = runs.filter((r) => r.status === 'fail').map((r) => r.name);
    const body: ReadinessDocument = {
      status: failed.length > 0 ? 'fail' : 'ok',
      checks: Object.fromEntries(runs.map((r) => [r.name, r.status])),
      failed,
    };
    ctx.json(body, failed.length > 0 ? 503 : 200);
  };

  /** `GET /health`: every check; 503 when one fails. */
  readonly details = async (ctx: HttpContext): Promise<void> => {
    this.#authorize(ctx, await this.#guard(ctx, this.#config.endpoints.details));
    const document = await this.#document();
    ctx.json(document, document.status === 'fail' ? 503 : 200);
  };

  /** `GET /health/<check>`: one check; 404 for a name nobody registered. */
  readonly detailsOne = async (ctx: HttpContext): Promise<void> => {
    this.#authorize(ctx, await this.#guard(ctx, this.#config.endpoints.details));
    const name = String(ctx.params.check ?? '');
    if (!this.#registry.names().includes(name)) throw new E_HEALTH_CHECK_NOT_FOUND(name);
    const document = await this.#document([name]);
    ctx.json(document, document.status === 'fail' ? 503 : 200);
  };

  /**
   * No caching anywhere, then the rate limit of the endpoint: synchronous with the interim
   * limiter (liveness stays promise-free), a promise with the rate-limit subsystem's.
   */
  #guard(
    ctx: HttpContext,
    endpoint: HealthEndpointSettings | false,
  ): HealthEndpointSettings | Promise<HealthEndpointSettings> {
    ctx.setHeader('cache-control', NO_STORE);
    // Routes exist only for enabled endpoints.
    const settings = endpoint as HealthEndpointSettings;
    const limit = settings.rateLimit;
    if (limit === false) return settings;
    const apply = (decision: RateLimitDecision): HealthEndpointSettings => {
      ctx.setHeader('ratelimit-limit', String(limit.max));
      ctx.setHeader('ratelimit-remaining', String(decision.remaining));
      if (!decision.allowed) throw new E_HEALTH_RATE_LIMITED(settings.path, decision.retryAfter);
      return settings;
    };
    const decision = this.#limiter.hit(settings.path, ctx.ip, limit);
    return decision instanceof Promise ? decision.then(apply) : apply(decision);
  }

  /**
   * The detailed endpoints: an allowlisted address, or the bearer key. Without an
   * allowlist, loopback stands in for it, so a bare install shows details locally only.
   */
  #authorize(ctx: HttpContext, endpoint: HealthEndpointSettings): void {
    const ip = ctx.ip;
    const allowed = this.#access.restricted ? this.#access.allows(ip) : HealthAccess.isLoopback(ip);
    if (allowed || this.#access.bearer(ctx.header('authorization'))) return;
    ctx.setHeader('www-authenticate', 'Bearer realm="health"');
    throw new E_HEALTH_UNAUTHORIZED(endpoint.path);
  }

  #runReadiness(): Promise<HealthCheckRun[]> {
    if (this.#readinessRun) return this.#readinessRun;
    const run = this.#registry.run({ readiness: true }).finally(() => {
      this.#readinessRun = undefined;
    });
    this.#readinessRun = run;
    return run;
  }

  async #document(names?: string[]): Promise<HealthDocument> {
    const filter = names ? { names } : {};
    const [ready, other] = await Promise.all([
      this.#registry.run({ ...filter, readiness: true }),
      this.#registry.run({ ...filter, readiness: false }),
    ]);
    const checks: HealthCheckView[] = [
      ...ready.map((run) => ({ ...run, readiness: true })),
      ...other.map((run) => ({ ...run, readiness: false })),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const state = this.#state();
    return {
      status: worst(checks),
      ready: state === 'ready' && !ready.some((r) => r.status === 'fail'),
      app: { ...this.#app, state },
      checks,
    };
  }
}
