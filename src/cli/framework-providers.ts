import { DatabaseProvider } from '../db/db-provider.js';
import { HttpProvider } from '../http/index.js';
import type { Constructor } from '../support/index.js';

/**
 * The framework's own providers, registered before every module's. Later subsystems
 * (database, cache, queue, ...) add theirs here.
 */
export const frameworkProviders: Constructor[] = [HttpProvider, DatabaseProvider];
