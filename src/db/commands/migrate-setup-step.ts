import type { SetupUpdateContext, SetupUpdateStep } from '../../kernel/commands/index.js';
import type { ConnectionMigrateOutcome } from './migrate-runner.js';

/**
 * `setup:update`'s database step: back up and migrate every connection, before the
 * modules' install and upgrade hooks (which may need the new tables). It stays out of
 * the run when the app has no database: no `database` config, no `DB_*` variable and
 * no migration anywhere. Nothing heavy loads until it runs.
 */
export const migrateSetupStep: SetupUpdateStep = {
  name: 'migrate',
  description: 'back up the database and run pending migrations',
  before: 'modules',
  skip: ({ options }) => (options.skipDb ? '--skip-db' : undefined),

  async applies({ app, options }: SetupUpdateContext) {
    const { appDatabase, appMigrations, databaseConfigured } = await import(
      '../migrations/app-migrations.js'
    );
    if (databaseConfigured(app)) return true;
    // Skipped anyway: say so when a module has a migrations folder, without loading it.
    if (options.skipDb) return app.modules.some((m) => m.manifest.migrations);
    const database = appDatabase(app);
    try {
      return (await appMigrations(app, database.manager)).length > 0;
    } finally {
      await database.release();
    }
  },

  async run({ app, options, ui }: SetupUpdateContext) {
    const { migrateApp } = await import('./migrate-runner.js');
    const outcomes = await migrateApp(app, { backup: options.backup, ui, indent: '    ' });
    return describe(outcomes, false, options.backup);
  },

  async plan({ app, options, ui }: SetupUpdateContext) {
    const { migrateApp } = await import('./migrate-runner.js');
    const outcomes = await migrateApp(app, {
      backup: options.backup,
      dryRun: true,
      ui,
      indent: '    ',
    });
    for (const outcome of outcomes)
      for (const run of outcome.migrations)
        ui.line(`    would run ${run.name} (${run.module}) on ${outcome.connection}`);
    return describe(outcomes, true, options.backup);
  },
};

function describe(
  outcomes: readonly ConnectionMigrateOutcome[],
  dryRun: boolean,
  backup: boolean,
): string {
  const parts = outcomes
    .filter((o) => o.migrations.length > 0)
    .map((o) => {
      const n = o.migrations.length;
      const what = `${n} migration${n === 1 ? '' : 's'}`;
      if (dryRun) return `${o.connection}: would ${backup ? 'back up and ' : ''}run ${what}`;
      return `${o.connection}: ${what} run${o.backup ? ` after backup ${o.backup.file}` : ''}`;
    });
  return parts.join('; ') || 'up to date';
}
