import { type Application, defineCommand } from '../../kernel/index.js';
import type { DialectName } from '../config.js';
import type { RunningMigration, UnsafeState } from '../migrations/migration-state.js';
import type { MigrationStatus } from '../migrations/migrator.js';

/** One connection in `migrate:status --json`. */
export interface ConnectionStatus {
  connection: string;
  dialect: DialectName;
  /**
   * `unsafe`: a migration failed or was cut short; `running`: a live process is migrating;
   * `interrupted`: the process that was migrating is gone (UNSAFE at the next run).
   */
  state: 'ok' | 'unsafe' | 'running' | 'interrupted';
  unsafe?: UnsafeState;
  running?: RunningMigration;
  migrations: MigrationStatus[];
}

/** `keel migrate:status`: every migration, ran or pending, and each connection's state. */
export const migrateStatusCommand = defineCommand<Application>({
  name: 'migrate:status',
  description: 'List the migrations with their batch and date, and any UNSAFE state',
  json: true,
  options: [{ flags: '--connection <name>', description: 'this connection only' }],
  async handle({ app, options, ui }) {
    // Loads Kysely: imported when the command runs, not when the CLI starts.
    const { withAppMigrations } = await import('./migrate-runner.js');
    const { appMigrator, migrationConnections, migrationState } = await import(
      '../migrations/app-migrations.js'
    );
    const { isAlive } = await import('../migrations/migration-state.js');
    const connections = await withAppMigrations(app, async (manager, entries) => {
      const only = typeof options.connection === 'string' ? options.connection : undefined;
      const store = migrationState(app);
      const out: ConnectionStatus[] = [];
      for (const name of migrationConnections(entries, manager, only)) {
        const migrator = appMigrator(app, manager, entries, name);
        const state = await store.get(name);
        out.push({
          connection: name,
          dialect: migrator.connection.dialect,
          state: state.unsafe
            ? 'unsafe'
            : state.running
              ? isAlive(state.running)
                ? 'running'
                : 'interrupted'
              : 'ok',
          ...(state.unsafe ? { unsafe: state.unsafe } : {}),
          ...(state.running ? { running: state.running } : {}),
          migrations: await migrator.status(),
        });
      }
      return out;
    });
    ui.output({ connections }, () => {
      for (const connection of connections) {
        const pending = connection.migrations.filter((m) => m.status === 'pending').length;
        ui.line(
          `${ui.bold(connection.connection)} ${ui.dim(`(${connection.dialect})`)}: ${connection.migrations.length - pending} ran, ${pending} pending`,
        );
        if (connection.unsafe) {
          const u = connection.unsafe;
          ui.error(
            `UNSAFE: ${u.migration} (${u.module}) ${u.reason === 'interrupted' ? 'was interrupted' : 'failed'} at ${u.at}: ${u.error}`,
          );
          ui.line(
            ui.dim(
              `  its changes ${u.changes === 'rolled-back' ? 'were rolled back' : 'may be partly applied'}; check the schema, then \`keel migrate:reset-state --force\``,
            ),
          );
        } else if (connection.running) {
          const r = connection.running;
          const text = `${r.migration} (${r.module}) started ${r.startedAt} by process ${r.pid} on ${r.host}`;
          if (connection.state === 'running') ui.warn(`running now: ${text}`);
          else ui.error(`interrupted: ${text}; the next \`keel migrate\` marks it UNSAFE`);
        }
        ui.table(
          connection.migrations.map((m) => ({
            Migration: m.name,
            Module: m.module,
            Status:
              m.status === 'ran'
                ? ui.green('ran')
                : m.status === 'pending'
                  ? ui.yellow('pending')
                  : ui.red('missing'),
            Batch: m.batch ?? '',
            'Ran at': m.migratedAt ?? '',
          })),
          ['Migration', 'Module', 'Status', 'Batch', 'Ran at'],
        );
      }
    });
    return 0;
  },
});
