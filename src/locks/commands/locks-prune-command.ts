import { type Application, defineCommand } from '../../kernel/index.js';
import { LOCKS_TABLE } from '../migrations/create-keel-locks-table.js';

/** What `locks:prune --json` prints: rows deleted per connection, or why one was skipped. */
export interface LocksPruneOutput {
  connections: Array<{ connection: string; removed: number; error?: string }>;
}

/**
 * The connections whose `keel_locks` table is in use: those named by the framework
 * migration sources that create it (`keel:locks` for the database lock store,
 * `keel:cache-locks*` for the cache's stampede locks); undefined is the default one.
 */
function lockConnections(app: Application): Array<string | undefined> {
  const names = new Set<string | undefined>();
  if (app.container.bound('db.migrations'))
    for (const source of app.make('db.migrations').sources())
      if (source.module === 'keel:locks' || source.module.startsWith('keel:cache-locks'))
        names.add(source.connection);
  return [...names];
}

/**
 * `keel locks:prune`: delete the `keel_locks` rows of free locks (one is left behind by
 * every lock name ever taken; the cache's stampede guard takes one per missed key), on
 * every connection that has the table. Fencing tokens stay increasing: see
 * DatabaseLockStore.prune. Schedule it (hourly or daily) beside `cache:gc`.
 */
export const locksPruneCommand = defineCommand<Application>({
  name: 'locks:prune',
  description: 'Delete the keel_locks rows of free locks (fencing tokens stay increasing)',
  json: true,
  options: [
    {
      flags: '--older-than <duration>',
      description: "only leases that ended this long ago ('10m', '1h'; default: every free lock)",
    },
    { flags: '--connection <name>', description: 'only this connection' },
  ],
  async handle({ app, options, ui }) {
    if (!app.container.bound('db')) {
      ui.warn('no database is configured: only the database lock store keeps rows');
      return 1;
    }
    const { DatabaseLockStore } = await import('../stores/database-lock-store.js');
    const names =
      typeof options.connection === 'string' ? [options.connection] : lockConnections(app);
    // Two sources may name the same connection (one by name, one as the default).
    const targets = [...new Map(names.map((n) => [app.make('db').connection(n).name, n])).values()];
    const olderThan = typeof options.olderThan === 'string' ? options.olderThan : undefined;
    const output: LocksPruneOutput = { connections: [] };
    let failed = false;
    for (const name of targets) {
      const connection = app.make('db').connection(name);
      try {
        const store = new DatabaseLockStore({ connection });
        const removed = await store.prune(olderThan === undefined ? {} : { olderThan });
        output.connections.push({ connection: connection.name, removed });
      } catch (error) {
        // A bad --older-than is the caller's mistake: the same on every connection.
        if ((error as { code?: string }).code === 'E_LOCK_INVALID_TTL') throw error;
        failed = true;
        output.connections.push({
          connection: connection.name,
          removed: 0,
          error: `${LOCKS_TABLE}: ${(error as Error).message}`,
        });
      }
    }
    ui.output(output, () => {
      if (output.connections.length === 0)
        ui.info(`no connection uses ${LOCKS_TABLE} (the locks and cache stores are elsewhere)`);
      for (const c of output.connections)
        if (c.error) ui.error(`${c.connection}: ${c.error}`);
        else
          ui.success(
            `${c.connection}: removed ${c.removed} free lock row${c.removed === 1 ? '' : 's'}`,
          );
    });
    return failed ? 1 : 0;
  },
});
