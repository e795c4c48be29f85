import { describe, expect, it } from 'vitest';
import { Job } from '../job.js';
import { assertCron, assertTimezone } from './cron-expression.js';
import { Schedule, splitCommandLine } from './schedule.js';
import type { ScheduledTask } from './scheduled-task.js';

class Report extends Job<{ day: string }> {
  static override jobName = 'reports:daily';
  handle(): void {}
}

const task = (): ScheduledTask => new Schedule().call('t', () => {});
const code = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return 'no error';
};

describe('ScheduledTask frequency helpers', () => {
  it.each<[string, (t: ScheduledTask) => ScheduledTask, string]>([
    ['default', (t) => t, '* * * * *'],
    ['everyMinute', (t) => t.everyMinute(), '* * * * *'],
    ['everyTwoMinutes', (t) => t.everyTwoMinutes(), '*/2 * * * *'],
    ['everyFiveMinutes', (t) => t.everyFiveMinutes(), '*/5 * * * *'],
    ['everyTenMinutes', (t) => t.everyTenMinutes(), '*/10 * * * *'],
    ['everyFifteenMinutes', (t) => t.everyFifteenMinutes(), '*/15 * * * *'],
    ['everyThirtyMinutes', (t) => t.everyThirtyMinutes(), '*/30 * * * *'],
    ['hourly', (t) => t.hourly(), '0 * * * *'],
    ['hourlyAt(17)', (t) => t.hourlyAt(17), '17 * * * *'],
    ['everySixHours(5)', (t) => t.everySixHours(5), '5 */6 * * *'],
    ['daily', (t) => t.daily(), '0 0 * * *'],
    ['dailyAt(02:00)', (t) => t.dailyAt('02:00'), '0 2 * * *'],
    ['dailyAt(7:05)', (t) => t.dailyAt('7:05'), '5 7 * * *'],
    ['twiceDaily(1, 13)', (t) => t.twiceDaily(1, 13), '0 1,13 * * *'],
    ['weekly', (t) => t.weekly(), '0 0 * * 0'],
    ['weeklyOn(1, 08:30)', (t) => t.weeklyOn(1, '08:30'), '30 8 * * 1'],
    ['monthly', (t) => t.monthly(), '0 0 1 * *'],
    ['monthlyOn(15, 12:00)', (t) => t.monthlyOn(15, '12:00'), '0 12 15 * *'],
    ['quarterly', (t) => t.quarterly(), '0 0 1 1-12/3 *'],
    ['yearly', (t) => t.yearly(), '0 0 1 1 *'],
    ['weekdays().at(07:30)', (t) => t.weekdays().at('07:30'), '30 7 * * 1-5'],
    ['weekends().hourly()', (t) => t.weekends().hourly(), '0 * * * 0,6'],
    ['mondays', (t) => t.daily().mondays(), '0 0 * * 1'],
    ['sundays', (t) => t.sundays(), '* * * * 0'],
    ['days(5, 1, 5)', (t) => t.days(5, 1, 5), '* * * * 1,5'],
    ['cron then fridays', (t) => t.cron('*/5 9-17 * * *').fridays(), '*/5 9-17 * * 5'],
    ['cron nickname', (t) => t.cron('@daily'), '0 0 * * *'],
    ['cron extra spaces', (t) => t.cron('  0   3 * * 1-5 '), '0 3 * * 1-5'],
  ])('%s → %s', (_label, apply, expression) => {
    const t = apply(task());
    expect(t.expression).toBe(expression);
    // Every expression a helper makes is one croner accepts.
    expect(assertCron(t.expression)).toBe(expression);
  });

  it('names tasks after their command line or job, and keeps settings in info', () => {
    const schedule = new Schedule({ timezone: 'Europe/Paris' });
    const cmd = schedule.command('reports:send --format=pdf "Q1 2026"', ['--to', 'ops team']);
    expect(cmd.target).toEqual({
      kind: 'command',
      command: 'reports:send',
      argv: ['--format=pdf', 'Q1 2026', '--to', 'ops team'],
    });
    expect(cmd.info.name).toBe('reports:send --format=pdf "Q1 2026" --to "ops team"');
    const job = schedule.job(Report, { day: 'today' }).withoutOverlapping('10m').onOneServer();
    expect(job.info).toEqual({
      name: 'reports:daily',
      description: undefined,
      kind: 'job',
      expression: '* * * * *',
      timezone: 'Europe/Paris',
      withoutOverlapping: 600_000,
      onOneServer: true,
      environments: undefined,
    });
    const call = schedule
      .call('x', () => {})
      .timezone('America/New_York')
      .name('renamed')
      .description('d');
    expect(call.info).toMatchObject({
      name: 'renamed',
      description: 'd',
      timezone: 'America/New_York',
    });
    expect(schedule.tasks().map((t) => t.info.name)).toHaveLength(3);
    // The default zone follows the schedule's until a task sets its own.
    schedule.timezone = 'Asia/Tokyo';
    expect(job.info.timezone).toBe('Asia/Tokyo');
    expect(call.info.timezone).toBe('America/New_York');
    expect(schedule.remove('renamed')).toBe(true);
    expect(schedule.remove('renamed')).toBe(false);
    expect(new Schedule().call('y', () => {}).info.timezone).toBe('UTC');
  });

  it('splits command lines with simple quotes', () => {
    expect(splitCommandLine(`a:b --x=1 "two words" 'single q' --flag`)).toEqual([
      'a:b',
      '--x=1',
      'two words',
      'single q',
      '--flag',
    ]);
  });
});

describe('invalid schedule definitions', () => {
  it('refuses bad cron expressions with E_SCHEDULE_INVALID_CRON', () => {
    for (const bad of [
      '',
      '   ',
      '* * * *',
      '* * * * * *',
      '61 * * * *',
      '* 24 * * *',
      '* * 32 * *',
      '* * * 13 *',
      '* * * * 8',
      'a b c d e',
      '*/0 * * * *',
      '* * * * *\n* * * * *',
      '@reboot',
      `${'1,'.repeat(150)}1 * * * *`,
      42,
      null,
      undefined,
      { toString: () => '* * * * *' },
    ]) {
      expect(
        code(() => task().cron(bad as never)),
        JSON.stringify(bad),
      ).toBe('E_SCHEDULE_INVALID_CRON');
    }
    expect(() => task().cron('* * * * * *')).toThrow(/seconds are not supported/);
    expect(() => task().cron('61 * * * *')).toThrow(
      'Invalid cron expression "61 * * * *": Invalid value for minute: 61',
    );
  });

  it('refuses bad times with E_SCHEDULE_INVALID_TIME', () => {
    const cases: Array<(t: ScheduledTask) => unknown> = [
      (t) => t.dailyAt('24:00'),
      (t) => t.dailyAt('12:60'),
      (t) => t.dailyAt('2:5'),
      (t) => t.dailyAt('02:00:30'),
      (t) => t.dailyAt('noon'),
      (t) => t.dailyAt(''),
      (t) => t.dailyAt(' 02:00'),
      (t) => t.dailyAt(200 as never),
      (t) => t.at('-1:00'),
      (t) => t.hourlyAt(60),
      (t) => t.hourlyAt(-1),
      (t) => t.hourlyAt(1.5),
      (t) => t.hourlyAt(Number.NaN),
      (t) => t.hourlyAt('5' as never),
      (t) => t.weeklyOn(7),
      (t) => t.monthlyOn(0),
      (t) => t.monthlyOn(32),
      (t) => t.twiceDaily(1, 24),
      (t) => t.days(),
      (t) => t.days(1, 9),
    ];
    for (const apply of cases)
      expect(
        code(() => apply(task())),
        String(apply),
      ).toBe('E_SCHEDULE_INVALID_TIME');
    expect(() => task().dailyAt('25:00')).toThrow(
      'Invalid time given to dailyAt(): "25:00" has an hour over 23',
    );
  });

  it('refuses unknown or hostile time zones with E_SCHEDULE_INVALID_TIMEZONE', () => {
    for (const bad of [
      'Mars/Olympus',
      'europe/paris ',
      '../../etc/passwd',
      '',
      'UTC\0',
      'A'.repeat(100),
      5,
      null,
    ]) {
      expect(
        code(() => task().timezone(bad as never)),
        String(bad),
      ).toBe('E_SCHEDULE_INVALID_TIMEZONE');
    }
    expect(code(() => new Schedule({ timezone: 'Nowhere/City' }))).toBe(
      'E_SCHEDULE_INVALID_TIMEZONE',
    );
    expect(assertTimezone('Etc/GMT+2')).toBe('Etc/GMT+2');
    expect(assertTimezone('UTC')).toBe('UTC');
  });

  it('refuses bad names, targets and options with E_SCHEDULE_INVALID_TASK', () => {
    const schedule = new Schedule();
    const cases: Array<() => unknown> = [
      () => schedule.call('', () => {}),
      () => schedule.call('x'.repeat(201), () => {}),
      () => schedule.call('a\nb', () => {}),
      () => schedule.call('\ud800', () => {}),
      () => schedule.call(42 as never, () => {}),
      () => schedule.call('x', 'not a function' as never),
      () => schedule.command(''),
      () => schedule.command(null as never),
      () => schedule.command('a:b', [1] as never),
      () => schedule.job(class NotAJob {} as never, {}),
      () => schedule.job('reports:daily' as never, {}),
      () => task().withoutOverlapping(0),
      () => task().withoutOverlapping('soon'),
      () => task().withoutOverlapping(-5),
      () => task().environments(),
      () => task().when('yes' as never),
      () => task().name(''),
    ];
    for (const fn of cases) expect(code(fn), String(fn)).toBe('E_SCHEDULE_INVALID_TASK');
    expect(schedule.tasks()).toEqual([]);
  });

  it('refuses two tasks with one name when the tasks are read', () => {
    const schedule = new Schedule();
    schedule.command('cache:gc').hourly();
    const second = schedule.command('cache:gc').daily();
    expect(code(() => schedule.tasks())).toBe('E_SCHEDULE_DUPLICATE_TASK');
    second.name('cache:gc daily');
    expect(schedule.tasks().map((t) => t.info.name)).toEqual(['cache:gc', 'cache:gc daily']);
  });
});
