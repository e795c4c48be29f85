// A traced application process for tracing-processes.test.ts, on the fixture app at argv[3]:
// `serve` listens on PORT with a route that reads an order and dispatches a job, prints
// READY, and shuts down (flushing its spans) on SIGTERM; `work` runs a worker until the
// queue is empty, shuts down, and prints `SUMMARY <json>`. Tracing comes from the env.
import { CacheProvider } from '../../../cache/cache-provider.js';
import { DatabaseProvider, db } from '../../../db/index.js';
import { HttpProvider } from '../../../http/index.js';
import { Application, createLogger, installSignalHandlers } from '../../../kernel/index.js';
import { Job } from '../../../queue/index.js';
import { QueueProvider } from '../../../queue/queue-provider.js';
import { TracingProvider } from '../tracing-provider.js';

class ShipOrder extends Job<{ id: number }> {
  static override jobName = 'orders:ship';
  async handle(): Promise<void> {
    await db()
      .updateTable('orders' as never)
      .set({ shipped: 1 } as never)
      .where('id' as never, '=', this.payload.id as never)
      .execute();
  }
}

const [mode, root] = process.argv.slice(2);
if ((mode !== 'serve' && mode !== 'work') || root === undefined)
  throw new Error('usage: traced-process.ts serve|work <app root>');

const app = await Application.create({
  root,
  environment: mode === 'serve' ? 'http' : 'worker',
  logger: createLogger({ name: 'traced', level: 'warn', destination: process.stderr }),
  providers: [HttpProvider, DatabaseProvider, CacheProvider, QueueProvider, TracingProvider],
});
await app.boot();
app.make('queue').register(ShipOrder);

if (mode === 'serve') {
  app.make('http').router.post('/orders/:id/ship', async (ctx) => {
    const id = Number(ctx.params.id);
    const order = await db()
      .selectFrom('orders' as never)
      .selectAll()
      .where('id' as never, '=', id as never)
      .executeTakeFirst();
    await app.make('queue').dispatch(new ShipOrder({ id }));
    return { queued: order !== undefined };
  });
  await app.start();
  installSignalHandlers({ shutdown: () => app.shutdown('SIGTERM') });
  console.log('READY');
} else {
  await app.start();
  const summary = await (await app.make('queue').worker({ stopWhenEmpty: true })).run();
  await app.shutdown();
  console.log(`SUMMARY ${JSON.stringify(summary)}`);
}
