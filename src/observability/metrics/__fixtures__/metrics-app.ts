/**
 * The files of a fixture app with traffic in every subsystem the metrics cover: routes that
 * answer, throw, use the cache and the database, and jobs that complete or fail.
 */
import { dirname } from 'node:path';
import { KEEL_SRC, moduleFile } from '../../../../test/support/fixture-app.js';

const SRC = dirname(KEEL_SRC);

export const METRICS_APP_FILES: Record<string, string> = {
  'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
  // The socket peer of the tests is 127.0.0.1: trusting it lets X-Forwarded-For name a remote client.
  'config/http.ts': `export default { trustProxy: 'loopback' };\n`,
  'config/cache.ts': `export default { default: 'memory' };\n`,
  'modules/shop/module.ts': moduleFile(`{
    name: 'shop', version: '1.0.0',
    routes: () => import('./routes.ts'),
    jobs: async () => [(await import('./jobs.ts')).Note, (await import('./jobs.ts')).Broken],
  }`),
  'modules/shop/routes.ts': `
import { defineError } from '{{keel}}';
import { db } from '${SRC}/db/index.ts';
const E_SHOP_CLOSED = defineError('E_SHOP_CLOSED', () => 'The shop is closed', { status: 503, help: 'Come back later.' });
export default (router, app) => {
  router.get('/users/:id', (ctx) => ({ id: ctx.params.id }));
  router.post('/users', () => ({ created: true }));
  router.get('/boom', () => { throw new Error('kaput'); });
  router.get('/closed', () => { throw new E_SHOP_CLOSED(); });
  router.get('/cached/:key', async (ctx) => {
    const value = await app.make('cache').pool().remember(ctx.params.key, 60, () => 'computed');
    return { value };
  });
  router.get('/db', async () => {
    const rows = await db().selectFrom('notes').selectAll().execute();
    return { rows: rows.length };
  });
  router.get('/measured', () => 'measured').middleware('metrics');
};
`,
  'modules/shop/jobs.ts': `
import { db } from '${SRC}/db/index.ts';
import { Job } from '${SRC}/queue/index.ts';
export class Note extends Job {
  static jobName = 'shop:note';
  async handle() {
    await db().insertInto('notes').values({ text: this.payload.text }).execute();
  }
}
export class Broken extends Job {
  static jobName = 'shop:broken';
  static options = { tries: 2, backoff: 0 };
  handle() { throw new Error('the printer is on fire'); }
}
`,
};
