import { type Application, defineCommand } from '../../kernel/index.js';
import type { DialectName } from '../config.js';
import type { TableInfo } from '../migrations/table-inspector.js';

/** What `db:tables --json` prints. */
export interface DbTablesOutput {
  connection: string;
  dialect: DialectName;
  tables: TableInfo[];
  /** The tables' bytes summed (SQLite without dbstat: the whole file's pages). */
  totalBytes: number | null;
}

/** `keel db:tables`: every table of a connection with its exact row count and size. */
export const dbTablesCommand = defineCommand<Application>({
  name: 'db:tables',
  description: 'List the tables of a connection with their row counts and sizes on disk',
  json: true,
  options: [
    { flags: '--connection <name>', description: 'this connection (default: the default one)' },
  ],
  async handle({ app, options, ui }) {
    // Loads Kysely: imported when the command runs, not when the CLI starts.
    const { appDatabase } = await import('../migrations/app-migrations.js');
    const { listTables, sqliteDatabaseBytes } = await import('../migrations/table-inspector.js');
    const { formatBytes } = await import('../backup/backup-file.js');
    const database = appDatabase(app);
    let output: DbTablesOutput;
    try {
      const connection = database.manager.connection(
        typeof options.connection === 'string' ? options.connection : undefined,
      );
      const tables = await listTables(connection);
      const known = tables.every((t) => t.bytes !== null);
      output = {
        connection: connection.name,
        dialect: connection.dialect,
        tables,
        totalBytes: known
          ? tables.reduce((sum, t) => sum + (t.bytes ?? 0), 0)
          : connection.dialect === 'sqlite'
            ? await sqliteDatabaseBytes(connection)
            : null,
      };
    } finally {
      await database.release();
    }
    ui.output(output, () => {
      ui.line(`${ui.bold(output.connection)} ${ui.dim(`(${output.dialect})`)}`);
      ui.table(
        output.tables.map((t) => ({ Table: t.name, Rows: t.rows, Size: formatBytes(t.bytes) })),
        ['Table', 'Rows', 'Size'],
      );
      const rows = output.tables.reduce((sum, t) => sum + t.rows, 0);
      ui.line(
        ui.dim(
          `${output.tables.length} table${output.tables.length === 1 ? '' : 's'}, ${rows} row${rows === 1 ? '' : 's'}, ${formatBytes(output.totalBytes)}`,
        ),
      );
    });
    return 0;
  },
});
