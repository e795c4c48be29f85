import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceProvider } from '../../container/index.js';
import { type Application, importSource } from '../../kernel/index.js';
import { appCommands, commandRunner } from './command-runner.js';
import { E_SCHEDULE_INVALID_TASK } from './errors.js';
import { registerFrameworkTasks } from './framework-tasks.js';
import { Schedule, type ScheduleDefinition } from './schedule.js';
import { Scheduler } from './scheduler.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** The task definitions. */
    schedule: Schedule;
    /** Runs the due tasks (schedule:run, schedule:work). */
    scheduler: Scheduler;
  }
}

/** `config/schedule.ts`. */
export interface ScheduleConfig {
  /** Time zone of tasks that set none; default `'UTC'`. */
  timezone?: string;
  /** Register the framework's maintenance tasks (cache:gc hourly, …); default true. */
  maintenance?: boolean;
}

/** Module files holding a schedule, in the order they are looked for. */
const SCHEDULE_FILES = ['schedule.ts', 'schedule.js', 'schedule.mjs'];

function readConfig(raw: unknown): ScheduleConfig {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object')
    throw new E_SCHEDULE_INVALID_TASK('config/schedule', 'the config must be an object');
  const { timezone, maintenance } = raw as Record<string, unknown>;
  if (maintenance !== undefined && typeof maintenance !== 'boolean')
    throw new E_SCHEDULE_INVALID_TASK('config/schedule', '"maintenance" must be true or false');
  return {
    ...(timezone === undefined ? {} : { timezone: timezone as string }),
    ...(maintenance === undefined ? {} : { maintenance }),
  };
}

/**
 * Binds `app.make('schedule')` (the task definitions) at register, so providers can add
 * tasks from their `register()` or `boot()`, and `app.make('scheduler')` (the runner, with
 * the app's commands, its locks if LockProvider is registered, and its logger). At boot it
 * loads each module's `schedule.ts` (default export from {@link defineSchedule}) in module
 * order, then adds the framework's maintenance tasks.
 */
export class ScheduleProvider extends ServiceProvider<Application> {
  #schedule: Schedule | undefined;
  #scheduler: Scheduler | undefined;
  #config: ScheduleConfig = {};

  override register(): void {
    const app = this.app;
    this.#config = readConfig(app.config.get('schedule' as never));
    const schedule = new Schedule(
      this.#config.timezone === undefined ? {} : { timezone: this.#config.timezone },
    );
    this.#schedule = schedule;
    app.container.singleton('schedule', () => schedule);
    app.container.singleton('scheduler', () => {
      this.#scheduler ??= new Scheduler({
        schedule,
        logger: app.logger.child({ component: 'scheduler' }),
        runCommand: commandRunner(app, appCommands(app)),
        locks: () => (app.container.bound('locks') ? app.make('locks') : undefined),
        environment: app.env.appEnv,
      });
      return this.#scheduler;
    });
  }

  override async boot(): Promise<void> {
    const schedule = this.#schedule;
    if (!schedule) return;
    for (const module of this.app.modules) {
      const file = SCHEDULE_FILES.map((name) => join(module.dir, name)).find((f) => existsSync(f));
      if (!file) continue;
      const loaded = await importSource<{ default?: unknown }>(file);
      if (typeof loaded.default !== 'function')
        throw new E_SCHEDULE_INVALID_TASK(
          `${module.manifest.name}/${file.slice(module.dir.length + 1)}`,
          'its default export must be defineSchedule((schedule, app) => { ... })',
        );
      await (loaded.default as ScheduleDefinition<Application>)(schedule, this.app);
    }
    if (this.#config.maintenance !== false) registerFrameworkTasks(schedule, this.app);
  }
}
