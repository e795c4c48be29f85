import { env } from 'keel';
import { defineDatabaseConfig } from 'keel/db';

// SQLite under var/data by default: `npm start` needs nothing installed. The same app runs on
// PostgreSQL or MariaDB with a `postgres`/`mysql` connection here instead.
export default defineDatabaseConfig({
  connections: {
    default: { driver: 'sqlite', filename: env('DB_FILENAME', 'var/data/erp.sqlite') },
  },
  // Demo-sized data: flag anything that takes a tenth of a second.
  slowQueryMs: 100,
});
