import { AuthProvider } from '../auth/auth-provider.js';
import { CacheProvider } from '../cache/cache-provider.js';
import { DatabaseProvider } from '../db/db-provider.js';
import { HttpProvider } from '../http/index.js';
import { LockProvider } from '../locks/lock-provider.js';
import { HealthProvider } from '../observability/health/health-provider.js';
import { LoggingProvider } from '../observability/logging/logging-provider.js';
import { MetricsProvider } from '../observability/metrics/metrics-provider.js';
import { TracingProvider } from '../observability/tracing/tracing-provider.js';
import { QueueProvider } from '../queue/queue-provider.js';
import { ScheduleProvider } from '../queue/schedule/schedule-provider.js';
import { CsrfProvider } from '../security/csrf/csrf-provider.js';
import { EncryptionProvider } from '../security/encryption/encryption-provider.js';
import { IdempotencyProvider } from '../security/idempotency/idempotency-provider.js';
import { RateLimitProvider } from '../security/rate-limit/rate-limit-provider.js';
import { SecurityGroupsProvider } from '../security/security-groups-provider.js';
import { SecurityMiddlewareProvider } from '../security/security-middleware-provider.js';
import { SignedUrlProvider } from '../security/signed-url/signed-url-provider.js';
import { SessionProvider } from '../session/session-provider.js';
import type { Constructor } from '../support/index.js';

/**
 * The framework's own providers, registered before every module's. Later subsystems
 * (database, cache, queue, ...) add theirs here.
 */
// Cache and locks after the database: with a database store they register its table's
// migration in the registry the DatabaseProvider binds.
export const frameworkProviders: Constructor[] = [
  HttpProvider,
  // Its aliases (security, cors, allow_ip, sanitize) and before-routing hooks join the HTTP
  // kernel at boot, before the route pipelines are composed at start.
  SecurityMiddlewareProvider,
  // Before the session's cookie store, which encrypts with it.
  EncryptionProvider,
  // `url.signer` and the `signed` middleware (signed links to named routes).
  SignedUrlProvider,
  DatabaseProvider,
  CacheProvider,
  LockProvider,
  // After the database: its store registers the idempotency_keys migration.
  IdempotencyProvider,
  // After the database (its rate_limits migration); before the security groups (the api
  // group lists `throttle` when it exists) and before health (which keeps its health.limiter).
  RateLimitProvider,
  QueueProvider,
  ScheduleProvider,
  // After the database (the sessions migration) and before metrics (the active-sessions gauge).
  SessionProvider,
  // After the database (its framework migrations, when config/auth.ts exists) and sessions;
  // registers the `auth` and `can` middleware at boot.
  AuthProvider,
  // After the session: the csrf middleware runs inside it.
  CsrfProvider,
  // After every provider registering a security alias: the web and api groups list them.
  SecurityGroupsProvider,
  // After the subsystems it measures: their managers exist when it boots.
  MetricsProvider,
  // After the HTTP kernel and the queue: it instruments both at boot.
  LoggingProvider,
  // After the HTTP kernel, the database, the cache and the queue: it instruments them at
  // boot. Its exporter flushes in an onShutdown callback, after every provider stopped.
  TracingProvider,
  // Last: its checks read what the others configured, and its shutdown (first, in
  // reverse) turns readiness off while the HTTP server still serves.
  HealthProvider,
];
