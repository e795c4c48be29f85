import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../test/support/provider-app.js';
import { ConsoleUI } from '../cli/index.js';
import { DatabaseProvider, db } from '../db/index.js';
import { appMigrations, appMigrator } from '../db/migrations/index.js';
import type { Application, CommandContext, CommandDefinition } from '../kernel/index.js';
import {
  queueClearCommand,
  queueFailedCommand,
  queueFlushCommand,
  queueForgetCommand,
  queueMonitorCommand,
  queueRetryCommand,
  queueWorkCommand,
} from './commands/index.js';
import { dispatch, Job, type JobContext } from './index.js';
import { QueueProvider } from './queue-provider.js';

const apps = providerApps([DatabaseProvider, QueueProvider]);

const DATABASE = {
  'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
};

class Note extends Job<{ text: string }> {
  static override jobName = 'test:note';
  async handle(ctx: JobContext) {
    await db()
      .insertInto('notes' as never)
      .values({ text: this.payload.text, attempt: ctx.attempt } as never)
      .execute();
  }
}

class Broken extends Job<null> {
  static override jobName = 'test:broken';
  static override options = { tries: 2, backoff: 0 };
  handle(): void {
    throw new Error('the printer is on fire');
  }
}

/** A booted app on SQLite with the queue tables migrated and a `notes` table. */
async function queueApp(env: Record<string, string> = {}): Promise<Application> {
  const app = await apps.create(DATABASE, env);
  await app.boot();
  const manager = app.make('db');
  await appMigrator(app, manager, await appMigrations(app, manager), manager.defaultName).migrate();
  await db()
    .schema.createTable('notes')
    .addColumn('text', 'text')
    .addColumn('attempt', 'integer')
    .execute();
  app.make('queue').register(Note, Broken);
  return app;
}

async function run(
  command: CommandDefinition<Application>,
  app: Application,
  options: Record<string, unknown> = {},
  args: Record<string, unknown> = {},
) {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  const ui = new ConsoleUI({ json: true, stdout, stderr: new PassThrough(), colors: false });
  const code = await command.handle({
    app,
    cwd: app.paths.root,
    args,
    options,
    verbose: false,
    ui,
  } as CommandContext<Application>);
  const json = out.trim() === '' ? undefined : JSON.parse(out);
  return { code, json };
}

describe('QueueProvider on the database driver (SQLite)', () => {
  it('defaults to the database connection and registers the queue tables migration', async () => {
    const app = await queueApp();
    expect(app.make('queue').config.default).toBe('database');
    expect(
      app
        .make('db.migrations')
        .sources()
        .map((s) => s.module),
    ).toContain('keel:queue');
  });

  it('dispatches with dispatch(), and queue:work runs the jobs', async () => {
    const app = await queueApp();
    await dispatch(new Note({ text: 'one' }));
    await dispatch(new Note({ text: 'two' })).onQueue('low');
    const worked = await run(queueWorkCommand, app, { queue: 'default,low', stopWhenEmpty: true });
    expect(worked.code).toBe(0);
    expect(worked.json).toMatchObject({ processed: 2, failed: 0 });
    const notes = await db()
      .selectFrom('notes' as never)
      .selectAll()
      .execute();
    expect(notes.map((n) => (n as { text: string }).text).sort()).toEqual(['one', 'two']);
  });

  it('fails, lists, retries, forgets and flushes failed jobs; monitor exits 1 over a threshold', async () => {
    const app = await queueApp();
    await dispatch(new Broken(null));
    await dispatch(new Broken(null));
    expect((await run(queueWorkCommand, app, { stopWhenEmpty: true })).json).toMatchObject({
      failed: 2,
      retried: 2,
    });
    const failed = (await run(queueFailedCommand, app)).json as Array<{
      id: string;
      error: string;
    }>;
    expect(failed).toHaveLength(2);
    expect(failed[0]?.error).toContain('the printer is on fire');
    expect((await run(queueMonitorCommand, app, { maxFailed: '1' })).code).toBe(1);
    expect((await run(queueMonitorCommand, app, { maxFailed: '5' })).code).toBe(0);

    expect((await run(queueForgetCommand, app, {}, { id: failed[0]?.id })).code).toBe(0);
    expect((await run(queueForgetCommand, app, {}, { id: 'nope' })).code).toBe(1);
    expect((await run(queueRetryCommand, app, {}, { ids: ['all'] })).json).toEqual({ retried: 1 });
    const again = await run(queueWorkCommand, app, { stopWhenEmpty: true });
    expect(again.json).toMatchObject({ failed: 1 });
    // A job that failed a moment ago is younger than an hour: kept.
    expect((await run(queueFlushCommand, app, { olderThan: '1h' })).json).toEqual({ removed: 0 });
    expect((await run(queueFlushCommand, app)).json).toEqual({ removed: 1 });
    expect((await run(queueFailedCommand, app)).json).toEqual([]);
  });

  it('clears a queue’s waiting jobs with --force, and refuses bad worker options', async () => {
    const app = await queueApp();
    await dispatch(new Note({ text: 'a' })).onQueue('bulk');
    await dispatch(new Note({ text: 'b' }))
      .onQueue('bulk')
      .delay('1h');
    expect((await run(queueClearCommand, app, { force: true }, { queue: 'bulk' })).json).toEqual({
      queue: 'bulk',
      removed: 2,
    });
    expect((await run(queueWorkCommand, app, { concurrency: '0' })).code).toBe(1);
    expect((await run(queueWorkCommand, app, { maxJobs: 'many' })).code).toBe(1);
  });

  it('runs jobs at dispatch on the sync connection', async () => {
    const app = await queueApp({ QUEUE_CONNECTION: 'sync' });
    expect(app.make('queue').config.default).toBe('sync');
    await dispatch(new Note({ text: 'now' }));
    const notes = await db()
      .selectFrom('notes' as never)
      .selectAll()
      .execute();
    expect(notes).toEqual([{ text: 'now', attempt: 1 }]);
  });

  it('refuses an unknown default connection with E_QUEUE_CONFIG_INVALID', async () => {
    const app = await apps.create(DATABASE, { QUEUE_CONNECTION: 'carrier-pigeon' });
    await expect(app.boot()).rejects.toMatchObject({
      cause: { cause: { code: 'E_QUEUE_CONFIG_INVALID' } },
    });
  });
});
