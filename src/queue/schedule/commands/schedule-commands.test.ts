import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP_FILE, createFixtureApp, moduleFile } from '../../../../test/support/fixture-app.js';
import { keelProcesses } from '../../../../test/support/keel-process.js';
import { providerApps } from '../../../../test/support/provider-app.js';
import { CacheProvider } from '../../../cache/cache-provider.js';
import { runCommand } from '../../../cache/commands/__fixtures__/run-command.js';
import { DatabaseProvider } from '../../../db/db-provider.js';
import type { Application } from '../../../kernel/index.js';
import { LockProvider } from '../../../locks/lock-provider.js';
import { ScheduleProvider } from '../schedule-provider.js';
import { scheduleListCommand } from './schedule-list-command.js';
import { scheduleRunCommand } from './schedule-run-command.js';
import { scheduleWorkCommand } from './schedule-work-command.js';

const apps = providerApps([DatabaseProvider, CacheProvider, LockProvider, ScheduleProvider]);
const MAIN = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));
const startKeel = keelProcesses();

/** A module that schedules from its schedule.ts and from its provider. */
const BILLING: Record<string, string> = {
  'modules/billing/module.ts': moduleFile(`{
  name: 'billing',
  version: '1.0.0',
  providers: async () => [(await import('./billing-provider.ts')).BillingProvider],
}`),
  'modules/billing/schedule.ts': `import { writeFileSync } from 'node:fs';
import { defineSchedule } from '{{keel}}/queue/schedule/index.ts';
export default defineSchedule((schedule, app) => {
  schedule.call('billing:close-day', () => { writeFileSync(app.paths.root + '/closed', 'yes'); })
    .dailyAt('23:55').timezone('Europe/Paris').onOneServer().description('Close the day');
  schedule.call('billing:tick', () => { writeFileSync(app.paths.root + '/ticked', 'yes'); });
});
`,
  'modules/billing/billing-provider.ts': `import { ServiceProvider } from '{{keel}}';
export class BillingProvider extends ServiceProvider {
  boot() {
    this.app.make('schedule').call('billing:broken', () => { throw new Error('ledger locked'); })
      .everyMinute().withoutOverlapping('5m');
  }
}
`,
};

async function booted(files: Record<string, string> = BILLING): Promise<Application> {
  // The fixture's {{keel}} is the src/index.ts file; the schedule module is imported by path.
  const fixed = Object.fromEntries(
    Object.entries(files).map(([k, v]) => [
      k,
      v.replace(
        "'{{keel}}/queue/schedule/index.ts'",
        `'${join(fileURLToPath(new URL('..', import.meta.url)), 'index.ts')}'`,
      ),
    ]),
  );
  const app = await apps.create(fixed);
  await app.boot();
  return app;
}

describe('schedule:list', () => {
  it('lists the module, provider and framework tasks with expression, zone and next run', async () => {
    const app = await booted();
    const { code, json } = await runCommand(scheduleListCommand, app);
    expect(code).toBe(0);
    const tasks = (json as { tasks: Array<Record<string, unknown>> }).tasks;
    expect(tasks.map((t) => [t.name, t.expression, t.timezone])).toEqual([
      ['billing:close-day', '55 23 * * *', 'Europe/Paris'],
      ['billing:tick', '* * * * *', 'UTC'],
      ['keel:cache-gc', '0 * * * *', 'UTC'],
      ['billing:broken', '* * * * *', 'UTC'],
    ]);
    expect(tasks[0]).toMatchObject({
      kind: 'call',
      onOneServer: true,
      withoutOverlapping: false,
      description: 'Close the day',
      nextRun: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/),
      nextRunLocal: expect.stringMatching(/^\d{4}-\d\d-\d\d 23:55 \(\+0[12]:00\)$/),
    });
    expect(tasks[2]).toMatchObject({
      kind: 'command',
      nextRunLocal: expect.stringMatching(/:00 \(\+00:00\)$/),
    });
    const text = await runCommand(scheduleListCommand, app, {}, false);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^name +expression +timezone +next run +options +description/);
    expect(text.stdout).toMatch(
      /billing:close-day +55 23 \* \* \* +Europe\/Paris +\d{4}-\d\d-\d\d 23:55 \(\+0[12]:00\) +one server +Close the day/,
    );
    expect(text.stdout).toMatch(/billing:broken +\* \* \* \* \* +UTC +.+ +no overlap/);
  });

  it('says when nothing is scheduled, and refuses a bad config at boot', async () => {
    const empty = await booted({
      'config/schedule.ts': 'export default { maintenance: false };\n',
    });
    const { code, stdout } = await runCommand(scheduleListCommand, empty, {}, false);
    expect(code).toBe(0);
    expect(stdout).toContain('no scheduled tasks');
    const bad = await apps.create({
      'config/schedule.ts': "export default { timezone: 'Mars/Olympus' };\n",
    });
    const error = await bad.boot().then(
      () => undefined,
      (e: unknown) => e,
    );
    // The kernel wraps it (E_APP_FAILED ← E_PROVIDER_FAILED ← the provider's own error).
    const codes: unknown[] = [];
    for (
      let e = error as { code?: unknown; cause?: unknown } | undefined;
      e;
      e = e.cause as typeof e
    )
      codes.push(e.code);
    expect(codes).toContain('E_SCHEDULE_INVALID_TIMEZONE');
  });
});

describe('schedule:run', () => {
  it('runs what is due now, isolates a failing task and exits 1 naming it', async () => {
    const app = await booted();
    const { code, json, stderr } = await runCommand(scheduleRunCommand, app);
    expect(code).toBe(1);
    const result = json as { at: string; tasks: Array<Record<string, unknown>> };
    const byName = Object.fromEntries(result.tasks.map((t) => [t.name, t]));
    expect(byName['billing:tick']).toMatchObject({ status: 'ran' });
    expect(byName['billing:broken']).toMatchObject({ status: 'failed', error: 'ledger locked' });
    expect(readFileSync(join(app.paths.root, 'ticked'), 'utf8')).toBe('yes');
    // The every-minute tasks are due whatever the minute; the others only at theirs.
    expect(result.tasks.length).toBeGreaterThanOrEqual(2);
    const text = await runCommand(scheduleRunCommand, app, {}, false);
    expect(text.stdout).toMatch(/✔ billing:tick ran in \d+ ms/);
    expect(text.stderr).toMatch(/✖ billing:broken failed after \d+ ms: ledger locked/);
    expect(stderr).toBe('');
  });

  it('runs a scheduled command (cache:gc) through the CLI commands, in-process', async () => {
    const app = await booted({ 'config/schedule.ts': 'export default { maintenance: false };\n' });
    app.make('schedule').command('cache:gc').everyMinute();
    app.make('schedule').command('cache:nope').everyMinute();
    const { code, json } = await runCommand(scheduleRunCommand, app);
    expect(code).toBe(1);
    expect((json as { tasks: unknown[] }).tasks).toEqual([
      { name: 'cache:gc', status: 'ran', durationMs: expect.any(Number) },
      {
        name: 'cache:nope',
        status: 'failed',
        durationMs: expect.any(Number),
        error: expect.stringMatching(
          /^E_SCHEDULE_COMMAND_NOT_FOUND: The scheduled command "cache:nope" does not exist/,
        ),
      },
    ]);
  });

  it('says so when nothing is due', async () => {
    const app = await booted({ 'config/schedule.ts': 'export default { maintenance: false };\n' });
    app
      .make('schedule')
      .call('never', () => {})
      .cron('0 0 31 2 *');
    const { code, stdout } = await runCommand(scheduleRunCommand, app, {}, false);
    expect(code).toBe(0);
    expect(stdout).toContain('no scheduled tasks are due');
  });
});

describe('schedule:work (real process)', () => {
  it('runs until SIGTERM, then stops cleanly with exit code 0', async () => {
    const fixture = await createFixtureApp({
      'keel.config.ts': APP_FILE,
      'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
      'modules/shop/module.ts': moduleFile(`{ name: 'shop', version: '1.0.0' }`),
    });
    try {
      const { child, output, exited } = startKeel(fixture.root, ['run.mjs', 'schedule:work']);
      await expect
        .poll(output, { timeout: 20_000, interval: 50 })
        .toContain('scheduler running with');
      const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill('SIGTERM');
      expect(await exited).toBe(null);
      expect(await code).toBe(0);
      expect(output()).toContain('scheduler stopped (SIGTERM); running tasks finished');
    } finally {
      await fixture.cleanup();
    }
  }, 30_000);

  it('is registered with the framework commands', async () => {
    const { coreCommands } = await import('../../../cli/core-commands.js');
    const names = coreCommands.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['schedule:list', 'schedule:run', 'schedule:work']),
    );
    expect(scheduleWorkCommand.longRunning).toBeUndefined();
  });
});
