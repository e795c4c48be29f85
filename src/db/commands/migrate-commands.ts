import { relative } from 'node:path';
import { type Application, type CommandUI, defineCommand } from '../../kernel/index.js';
import { E_MIGRATE_IN_PRODUCTION, E_MIGRATE_OPTION_INVALID } from '../errors.js';
import type { MigrationRun } from '../migrations/migrator.js';
import type { ConnectionMigrateOutcome, TakenBackup } from './migrate-runner.js';

/** `--step` as given: absent, alone (`true`), or a positive whole number. */
export function parseStep(value: unknown, allowAlone: boolean): number | true | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true && allowAlone) return true;
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new E_MIGRATE_OPTION_INVALID('step', text, 'a whole number of at least 1');
  return n;
}

/**
 * Changing the production schema needs `--force` or a yes at the prompt; without a
 * terminal to ask on, it is refused.
 */
export async function confirmProduction(
  app: Application,
  command: string,
  force: unknown,
  ui: CommandUI,
): Promise<void> {
  if (!app.env.isProduction || force === true) return;
  if (await ui.confirm(`Run ${command} on the PRODUCTION database?`, false)) return;
  throw new E_MIGRATE_IN_PRODUCTION(command);
}

function printRuns(ui: CommandUI, outcomes: readonly ConnectionMigrateOutcome[]): void {
  for (const outcome of outcomes) {
    if (outcome.migrations.length === 0) ui.info(summarize(outcome));
    else if (outcome.dryRun) {
      ui.info(summarize(outcome));
      for (const run of outcome.migrations) printStatements(ui, run);
    } else ui.success(summarize(outcome));
  }
}

function printStatements(ui: CommandUI, run: MigrationRun): void {
  ui.line(`  ${ui.bold(run.name)} ${ui.dim(`(${run.module}, batch ${run.batch})`)}`);
  const statements = run.statements ?? [];
  if (statements.length === 0) ui.line(ui.dim('    (no statements)'));
  for (const statement of statements) ui.line(`    ${statement};`);
}

/** `default: 2 migrations run`, `default: nothing to migrate`. */
function summarize(outcome: ConnectionMigrateOutcome): string {
  const count = outcome.migrations.length;
  const up = outcome.direction === 'up';
  if (count === 0) return `${outcome.connection}: nothing to ${up ? 'migrate' : 'roll back'}`;
  const noun = `migration${count === 1 ? '' : 's'}`;
  if (outcome.dryRun)
    return `${outcome.connection}: would ${up ? 'run' : 'roll back'} ${count} ${noun}`;
  return `${outcome.connection}: ${count} ${noun} ${up ? 'run' : 'rolled back'}`;
}

/** What `migrate --json` and `migrate:rollback --json` print. */
export interface MigrateOutput {
  dryRun: boolean;
  connections: ConnectionMigrateOutcome[];
}

/** `keel migrate`: back up, then run the pending migrations of the app's connections. */
export const migrateCommand = defineCommand<Application>({
  name: 'migrate',
  description: 'Run pending migrations (backing the database up first)',
  json: true,
  options: [
    { flags: '--connection <name>', description: 'migrate this connection only' },
    {
      flags: '--step [n]',
      description: 'give each migration its own batch; with n, run only the next n',
    },
    { flags: '--no-backup', description: 'do not back the database up first' },
    { flags: '--force', description: 'allow it in production without asking' },
    { flags: '--dry-run', description: 'print the SQL of each pending migration, run nothing' },
  ],
  async handle({ app, options, ui }) {
    const step = parseStep(options.step, true);
    const dryRun = options.dryRun === true;
    if (!dryRun) await confirmProduction(app, 'migrate', options.force, ui);
    const { migrateApp } = await import('./migrate-runner.js');
    const outcomes = await migrateApp(app, {
      ...(typeof options.connection === 'string' ? { connection: options.connection } : {}),
      ...(step !== undefined ? { step } : {}),
      dryRun,
      backup: options.backup !== false,
      ui,
    });
    const output: MigrateOutput = { dryRun, connections: outcomes };
    ui.output(output, () => printRuns(ui, outcomes));
    return 0;
  },
});

/** `keel migrate:rollback`: undo the last batch, or the last N migrations with --step N. */
export const migrateRollbackCommand = defineCommand<Application>({
  name: 'migrate:rollback',
  description: 'Roll back the last batch of migrations (or the last N with --step N)',
  json: true,
  options: [
    {
      flags: '--connection <name>',
      description: 'roll back this connection (default: the default one)',
    },
    {
      flags: '--step <n>',
      description: 'roll back the last n migrations instead of the last batch',
    },
    { flags: '--force', description: 'allow it in production without asking' },
    { flags: '--dry-run', description: 'print the SQL of each down(), run nothing' },
  ],
  async handle({ app, options, ui }) {
    const step = parseStep(options.step, false) as number | undefined;
    const dryRun = options.dryRun === true;
    if (!dryRun) await confirmProduction(app, 'migrate:rollback', options.force, ui);
    const { withAppMigrations, commandMigrator, describeRun } = await import('./migrate-runner.js');
    const outcome = await withAppMigrations(app, async (manager, entries) => {
      const name = manager.connection(
        typeof options.connection === 'string' ? options.connection : undefined,
      ).name;
      const result = await commandMigrator(app, manager, entries, name, ui).rollback({
        ...(step !== undefined ? { step } : {}),
        dryRun,
        onMigrated: (run) => ui.line(`  ${ui.yellow('↺')} ${describeRun(run)}`),
      });
      return { ...result, backup: null };
    });
    const output: MigrateOutput = { dryRun, connections: [outcome] };
    ui.output(output, () => printRuns(ui, [outcome]));
    return 0;
  },
});

/** What `migrate:fresh --json` prints. */
export interface FreshOutput {
  connection: string;
  dropped: string[];
  backup: TakenBackup | null;
  migrations: MigrationRun[];
}

/** `keel migrate:fresh`: drop every table of a connection, then migrate it from scratch. */
export const migrateFreshCommand = defineCommand<Application>({
  name: 'migrate:fresh',
  description: 'Drop every table (on PostgreSQL, of the connection’s schema) and migrate again',
  json: true,
  options: [
    { flags: '--connection <name>', description: 'this connection (default: the default one)' },
    { flags: '--force', description: 'allow it in production' },
    { flags: '--no-backup', description: 'in production, do not back up before dropping' },
  ],
  async handle({ app, options, ui }) {
    const { withAppMigrations, commandMigrator, describeRun } = await import('./migrate-runner.js');
    const { BackupManager } = await import('../backup/backup-manager.js');
    const { formatBytes } = await import('../backup/backup-file.js');
    const output = await withAppMigrations(app, async (manager, entries) => {
      const name = manager.connection(
        typeof options.connection === 'string' ? options.connection : undefined,
      ).name;
      let backup: TakenBackup | null = null;
      // Development drops and rebuilds all day; production (forced) keeps a copy first.
      const wantsBackup = app.env.isProduction && options.backup !== false;
      const result = await commandMigrator(app, manager, entries, name, ui).fresh({
        force: options.force === true,
        beforeDrop: async () => {
          if (!wantsBackup) return;
          const taken = await new BackupManager({ manager, root: app.paths.root }).backup(name);
          backup = { file: relative(app.paths.root, taken.file), bytes: taken.bytes };
          ui.line(`  backup ${backup.file} (${formatBytes(taken.bytes)})`);
        },
        onMigrated: (run) => ui.line(`  ${ui.green('✔')} ${describeRun(run)}`),
      });
      return {
        connection: name,
        dropped: result.dropped,
        backup,
        migrations: result.migrations,
      } satisfies FreshOutput;
    });
    ui.output(output, () => {
      ui.success(
        `${output.connection}: dropped ${output.dropped.length} table${output.dropped.length === 1 ? '' : 's'}, ran ${output.migrations.length} migration${output.migrations.length === 1 ? '' : 's'}`,
      );
    });
    return 0;
  },
});

/** `keel migrate:reset-state --force`: forget a failed or interrupted migration. */
export const migrateResetStateCommand = defineCommand<Application>({
  name: 'migrate:reset-state',
  description: 'Clear the UNSAFE migration state once the database has been checked or restored',
  json: true,
  options: [
    { flags: '--connection <name>', description: 'clear this connection only (default: all)' },
    { flags: '--force', description: 'clear it without asking' },
  ],
  async handle({ app, options, ui }) {
    const { migrationState } = await import('../migrations/app-migrations.js');
    const store = migrationState(app);
    const connection = typeof options.connection === 'string' ? options.connection : undefined;
    let before: Record<string, unknown> = {};
    try {
      const all = await store.read();
      before =
        connection === undefined
          ? all
          : Object.hasOwn(all, connection)
            ? { [connection]: all[connection] }
            : {};
    } catch (error) {
      // A damaged state file is exactly what this command is for.
      ui.warn((error as Error).message);
      before = { '(file)': 'unreadable' };
    }
    const names = Object.keys(before);
    if (names.length === 0) {
      ui.output({ cleared: [] }, () => ui.info('The migration state is clear: nothing to reset.'));
      return 0;
    }
    if (options.force !== true) {
      for (const name of names) ui.line(`  ${name}: ${JSON.stringify(before[name])}`);
      const yes = await ui.confirm(
        'Clear this migration state? Do it only once the database has been checked or restored.',
        false,
      );
      if (!yes) {
        ui.warn('Nothing cleared: run `keel migrate:reset-state --force` to clear it.');
        return 1;
      }
    }
    await store.reset(connection);
    ui.output({ cleared: names, previous: before }, () =>
      ui.success(
        `Cleared the migration state of ${names.join(', ')}: \`keel migrate\` runs again.`,
      ),
    );
    return 0;
  },
});
