import { CacheProvider } from '../cache/cache-provider.js';
import { DatabaseProvider } from '../db/db-provider.js';
import { HttpProvider } from '../http/index.js';
import { LockProvider } from '../locks/lock-provider.js';
import { QueueProvider } from '../queue/queue-provider.js';
import { ScheduleProvider } from '../queue/schedule/schedule-provider.js';
import type { Constructor } from '../support/index.js';

/**
 * The framework's own providers, registered before every module's. Later subsystems
 * (database, cache, queue, ...) add theirs here.
 */
// Cache and locks after the database: with a database store they register its table's
// migration in the registry the DatabaseProvider binds.
export const frameworkProviders: Constructor[] = [
  HttpProvider,
  DatabaseProvider,
  CacheProvider,
  LockProvider,
  QueueProvider,
  ScheduleProvider,
];
