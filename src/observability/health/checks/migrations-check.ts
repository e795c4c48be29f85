import { hostname } from 'node:os';
import {
  type DatabaseManager,
  type MigrationEntry,
  type MigrationStateStore,
  Migrator,
} from '../../../db/index.js';
import type { HealthCheckOutcome, HealthCheckStatus } from '../../../kernel/index.js';

export interface MigrationsCheckOptions {
  manager: () => DatabaseManager;
  /** The app's migrations (framework sources and modules'); collected once, on first run. */
  entries: () => Promise<readonly MigrationEntry[]>;
  /** `var/state/migrations.json`. */
  state: MigrationStateStore;
  root: string;
}

/** Whether the process that recorded a running migration still exists (this host only). */
function alive(pid: number, host: string): boolean {
  if (host !== hostname()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The schema's state on every connection that has migrations: a connection recorded
 * UNSAFE (a migration failed, or a process died running one) fails, and so does a
 * `running` record whose process is gone; a migration running now, or pending ones,
 * warn (the app serves, `keel migrate` is due).
 *
 * @example
 * ```ts
 * app.health.register('migrations', migrationsCheck({ manager, entries, state, root }));
 * ```
 */
export function migrationsCheck(
  options: MigrationsCheckOptions,
): () => Promise<HealthCheckOutcome> {
  return async () => {
    const manager = options.manager();
    const entries = await options.entries();
    const connections = [
      manager.defaultName,
      ...new Set(entries.map((e) => e.connection).filter((c) => c !== manager.defaultName)),
    ];
    const recorded = await options.state.read();
    let status: HealthCheckStatus = 'ok';
    const lines: string[] = [];
    const details: Record<string, unknown> = {};
    for (const name of connections) {
      const state = Object.hasOwn(recorded, name) ? recorded[name] : undefined;
      if (state?.unsafe) {
        const u = state.unsafe;
        status = 'fail';
        lines.push(
          `${name} is UNSAFE: ${u.migration} (${u.module}, ${u.direction}) ${u.reason === 'failed' ? 'failed' : 'was interrupted'} at ${u.at} (run \`keel migrate:status\`)`,
        );
        details[name] = { unsafe: u };
        continue;
      }
      if (state?.running) {
        const r = state.running;
        if (alive(r.pid, r.host)) {
          if (status === 'ok') status = 'warn';
          lines.push(`${name}: ${r.migration} is running since ${r.startedAt} (pid ${r.pid})`);
        } else {
          status = 'fail';
          lines.push(
            `${name}: ${r.migration} was interrupted (pid ${r.pid} is gone); the schema may be half-migrated`,
          );
        }
        details[name] = { running: r };
        continue;
      }
      const migrator = new Migrator({
        connection: manager.connection(name),
        migrations: entries,
        state: options.state,
        root: options.root,
      });
      const pending = (await migrator.pending()).map((e) => `${e.module}/${e.name}`);
      details[name] = { pending: pending.length };
      if (pending.length > 0) {
        if (status === 'ok') status = 'warn';
        lines.push(`${name}: ${pending.length} pending (run \`keel migrate\`)`);
      }
    }
    return {
      status,
      message:
        lines.length > 0 ? lines.join('; ') : `up to date on ${connections.length} connection(s)`,
      details,
    };
  };
}
