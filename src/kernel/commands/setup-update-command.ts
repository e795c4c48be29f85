import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { clearCompiled } from '../../compiler/commands/index.js';
import { ARTIFACT_NAMES, compileApp } from '../../compiler/index.js';
import type { Container } from '../../container/index.js';
import type { SetupStep } from '../../modules/index.js';
import type { Awaitable } from '../../support/index.js';
import { Application } from '../application.js';
import { type CommandUI, defineCommand } from '../command.js';
import { lookupAppEnv, normalizeAppEnv, readEnvFile } from '../env/index.js';
import { createLogger } from '../logger.js';
import { setEnvValue } from './setup-install-command.js';
import { ensureVarFolders, varFolders } from './setup-permissions-command.js';

/** How `setup:update` was asked to run. */
export interface SetupUpdateOptions {
  dryRun: boolean;
  skipHooks: boolean;
  skipCache: boolean;
  skipCompile: boolean;
  /** `--skip-db`: leave the database alone (steps that migrate skip themselves). */
  skipDb: boolean;
  /** False with `--no-backup`: change the database without backing it up first. */
  backup: boolean;
}

/** What one step of a run sees. */
export interface SetupUpdateContext {
  readonly app: Application;
  readonly cwd: string;
  readonly options: SetupUpdateOptions;
  readonly ui: CommandUI;
}

/**
 * One step of `setup:update`. Steps run in the order of {@link setupUpdateSteps}; a step
 * that throws stops the run (the steps before it stay done, and running again resumes).
 */
export interface SetupUpdateStep {
  name: string;
  description: string;
  /** Why this run skips the step (a `--skip-*` option), or undefined to run it. */
  skip?(ctx: SetupUpdateContext): string | undefined;
  /** Do the work; resolves with a one-line outcome. */
  run(ctx: SetupUpdateContext): Promise<string>;
  /** `--dry-run`: say what `run` would do, changing nothing. */
  plan(ctx: SetupUpdateContext): Promise<string>;
  /**
   * False leaves the step out of this run altogether: it has nothing to do in this
   * application (a database step in an app without a database).
   */
  applies?(ctx: SetupUpdateContext): Awaitable<boolean>;
  /** For a step a provider adds: the step it runs before (default: at the end). */
  before?: string;
}

/** One step's outcome in the summary. */
export interface SetupUpdateStepResult {
  name: string;
  status: 'done' | 'skipped' | 'planned';
  detail: string;
}

/** What `setup:update --json` prints. */
export interface SetupUpdateSummary {
  app: string;
  env: string;
  version: string;
  /** `git rev-parse --short HEAD` in the application folder; `n/a` outside a repository. */
  git: string;
  dryRun: boolean;
  steps: SetupUpdateStepResult[];
  warnings: string[];
}

const varFoldersStep: SetupUpdateStep = {
  name: 'var-folders',
  description: 'create the var/ folders and fix their modes',
  async run({ cwd }) {
    const report = await ensureVarFolders(cwd);
    return countActions(
      report.map((r) => r.action).filter((a) => a !== 'ok'),
      'all present',
    );
  },
  async plan({ cwd }) {
    const actions: string[] = [];
    for (const { path, mode } of varFolders(cwd)) {
      const current = await stat(path).catch(() => undefined);
      if (!current) actions.push(`would create ${relative(cwd, path)}`);
      else if ((current.mode & 0o777) !== mode)
        actions.push(`would fix ${relative(cwd, path)} to ${mode.toString(8)}`);
    }
    return actions.join(', ') || 'all present';
  },
};

const moduleSetupStep: SetupUpdateStep = {
  name: 'modules',
  description: 'install and upgrade modules, running their setup hooks',
  async run(ctx) {
    return describeSetup(await setupModules(ctx, false), ctx.options.skipHooks, false);
  },
  async plan(ctx) {
    return describeSetup(await setupModules(ctx, true), ctx.options.skipHooks, true);
  },
};

const clearCacheStep: SetupUpdateStep = {
  name: 'clear-cache',
  description: 'remove the compiled artifacts in var/cache',
  skip: ({ options }) => (options.skipCache ? '--skip-cache' : undefined),
  async run({ cwd }) {
    const removed = await clearCompiled(cwd);
    return removed.length > 0 ? `removed ${removed.join(', ')}` : 'nothing to clear';
  },
  async plan({ app }) {
    // What clearCompiled removes: every JSON artifact, including those providers add.
    const present = (await readdir(app.paths.cache).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.json'))
      .sort();
    return present.length > 0 ? `would remove ${present.join(', ')}` : 'nothing to clear';
  },
};

const compileStep: SetupUpdateStep = {
  name: 'compile',
  description: 'write the compiled boot artifacts to var/cache',
  skip: ({ options }) => (options.skipCompile ? '--skip-compile' : undefined),
  async run({ app }) {
    const result = await compileApp(app);
    const changed = Object.values(result.written).filter(Boolean).length;
    const total = Object.keys(result.written).length;
    return `${changed} of ${total} artifacts written (sources ${result.sources.slice(0, 12)})`;
  },
  async plan() {
    return `would write ${ARTIFACT_NAMES.join(', ')} and the artifacts providers add`;
  },
};

/**
 * The built-in steps of `setup:update`, in order. Subsystems that bring deployment work
 * (database migrations, say) add theirs with {@link addSetupUpdateStep}.
 */
export const setupUpdateSteps: readonly SetupUpdateStep[] = [
  varFoldersStep,
  moduleSetupStep,
  clearCacheStep,
  compileStep,
];

declare module '../../container/container.js' {
  interface ContainerBindings {
    'setup.update.steps': SetupUpdateStep[];
  }
}

/**
 * Add a step to `setup:update` from a provider's `register()`: the steps live in the
 * container under `setup.update.steps`, so the kernel knows none of the subsystems.
 *
 * @example
 * ```ts
 * override register() {
 *   addSetupUpdateStep(this.app.container, { name: 'search-index', before: 'compile', ... });
 * }
 * ```
 */
export function addSetupUpdateStep(container: Container, step: SetupUpdateStep): void {
  const steps = container.bound('setup.update.steps') ? container.make('setup.update.steps') : [];
  container.value('setup.update.steps', [...steps.filter((s) => s.name !== step.name), step]);
}

/** The built-in steps with those providers added, each placed before the step it names. */
export function setupUpdateStepsFor(container: Container): SetupUpdateStep[] {
  const steps = [...setupUpdateSteps];
  const added = container.bound('setup.update.steps') ? container.make('setup.update.steps') : [];
  for (const step of added) {
    const at = step.before === undefined ? -1 : steps.findIndex((s) => s.name === step.before);
    steps.splice(at < 0 ? steps.length : at, 0, step);
  }
  return steps;
}

async function setupModules(ctx: SetupUpdateContext, dryRun: boolean): Promise<SetupStep[]> {
  const { app, ui } = ctx;
  const report = await app.moduleManager.setup(
    (module) => ({ app, module: module.manifest, dir: module.dir }),
    {
      dryRun,
      skipHooks: ctx.options.skipHooks,
      onStep: (step) => {
        const versions = step.from ? `${step.from} → ${step.to}` : step.to ? step.to : '';
        const hook = step.hook ? ui.dim(` (${step.hook})`) : '';
        ui.line(
          `    ${dryRun ? 'would ' : ''}${step.action} ${step.module}${versions ? ` ${versions}` : ''}${hook}`,
        );
      },
    },
  );
  return report.steps;
}

function describeSetup(steps: readonly SetupStep[], skipHooks: boolean, dryRun: boolean): string {
  const changes = steps.filter(
    (s) => s.action === 'install' || s.action === 'upgrade' || s.action === 'downgrade',
  );
  const hooks = steps.filter((s) => s.hook).length;
  const text = countActions(
    changes.map((s) =>
      dryRun ? `to ${s.action}` : s.action === 'install' ? 'installed' : `${s.action}d`,
    ),
    'up to date',
  );
  const ran = dryRun ? 'to run' : 'run';
  return `${text}${skipHooks ? ', hooks skipped' : hooks > 0 ? `, ${hooks} hook${hooks === 1 ? '' : 's'} ${ran}` : ''}`;
}

function countActions(actions: readonly string[], none: string): string {
  if (actions.length === 0) return none;
  const counts = new Map<string, number>();
  for (const action of actions) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(', ');
}

/** The short commit hash of the folder's repository, or `n/a`. */
export async function gitHash(cwd: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], {
      cwd,
      timeout: 5000,
    });
    return stdout.trim() || 'n/a';
  } catch {
    return 'n/a';
  }
}

/**
 * Set `APP_ENV` in `.env`. Returns the warnings about places that override it (the process
 * environment and `.env.local` both win over `.env`).
 */
async function switchEnv(
  cwd: string,
  target: string,
  dryRun: boolean,
  ui: CommandUI,
): Promise<string[]> {
  const file = join(cwd, '.env');
  const exists = existsSync(file);
  const text = exists ? await readFile(file, 'utf8') : '';
  const current = readEnvFile(file)?.APP_ENV;
  if (current === target) {
    ui.line(`  env: APP_ENV is already ${target} in .env`);
  } else if (dryRun) {
    ui.line(`  env: would set APP_ENV=${target} in .env`);
  } else {
    await writeFile(file, setEnvValue(text, 'APP_ENV', target), exists ? {} : { mode: 0o600 });
    ui.line(`  env: set APP_ENV=${target} in .env`);
  }
  const warnings: string[] = [];
  const processValue = process.env.APP_ENV;
  if (processValue !== undefined && lookupAppEnv(processValue) !== target)
    warnings.push(`APP_ENV=${processValue} in the process environment overrides .env`);
  const local = readEnvFile(join(cwd, '.env.local'))?.APP_ENV;
  if (local !== undefined && lookupAppEnv(local) !== target)
    warnings.push(`APP_ENV=${local} in .env.local overrides .env`);
  return warnings;
}

export const setupUpdateCommand = defineCommand({
  name: 'setup:update',
  aliases: ['s:up'],
  description:
    'Bring a deployment up to date: var folders, module installs and upgrades, compiled caches',
  needs: 'nothing',
  json: true,
  options: [
    {
      flags: '--env <name>',
      description:
        'set APP_ENV in .env first (production, staging, development, test; prod/stage/dev)',
    },
    { flags: '--dry-run', description: 'print what each step would do and change nothing' },
    { flags: '--skip-hooks', description: 'record module versions without running setup hooks' },
    { flags: '--skip-cache', description: 'keep the compiled artifacts instead of clearing them' },
    { flags: '--skip-compile', description: 'do not write the compiled artifacts' },
    { flags: '--skip-db', description: 'do not run database migrations' },
    { flags: '--no-backup', description: 'migrate without backing up the database first' },
  ],
  async handle({ cwd, options, ui, createApp }) {
    const settings: SetupUpdateOptions = {
      dryRun: Boolean(options.dryRun),
      skipHooks: Boolean(options.skipHooks),
      skipCache: Boolean(options.skipCache),
      skipCompile: Boolean(options.skipCompile),
      skipDb: Boolean(options.skipDb),
      backup: options.backup !== false,
    };
    const warnings: string[] = [];
    const steps: SetupUpdateStepResult[] = [];
    const target = options.env === undefined ? undefined : normalizeAppEnv(String(options.env));
    if (target) {
      warnings.push(...(await switchEnv(cwd, target, settings.dryRun, ui)));
      steps.push({
        name: 'env',
        status: settings.dryRun ? 'planned' : 'done',
        detail: `APP_ENV=${target}`,
      });
    }

    // A dry run writes no .env, so the app is created as if it had been written.
    // A dry run writes no .env, so the app is created as if it had been written. The CLI's
    // factory includes the framework providers, so the artifacts equal `keel compile`'s.
    const extra = {
      ...(target && settings.dryRun ? { env: { APP_ENV: target } } : {}),
      // stdout carries the JSON summary alone: what hooks and providers log goes to stderr.
      ...(ui.json ? { logger: createLogger({ name: 'keel', destination: process.stderr }) } : {}),
    };
    const app = createApp
      ? await createApp(extra)
      : await Application.create({ root: cwd, environment: 'console', ...extra });
    try {
      // Hooks may use any service, so a real run boots; a dry run runs no hook and boots
      // nothing, but registers the providers, which add their steps.
      if (settings.dryRun) app.register();
      else await app.boot();
      const ctx: SetupUpdateContext = { app, cwd, options: settings, ui };
      for (const step of setupUpdateStepsFor(app.container)) {
        if (step.applies && !(await step.applies(ctx))) continue;
        const skipped = step.skip?.(ctx);
        if (skipped) {
          steps.push({ name: step.name, status: 'skipped', detail: skipped });
          ui.line(`  ${step.name}: ${ui.dim(`skipped (${skipped})`)}`);
          continue;
        }
        ui.line(`  ${step.name}: ${ui.dim(step.description)}`);
        const detail = settings.dryRun ? await step.plan(ctx) : await step.run(ctx);
        steps.push({ name: step.name, status: settings.dryRun ? 'planned' : 'done', detail });
        ui.line(`    ${detail}`);
      }
      if (app.env.isProduction && app.env.debug)
        warnings.push('APP_DEBUG is on in production: error pages and logs may expose internals');
      const summary: SetupUpdateSummary = {
        app: app.name,
        env: app.env.appEnv,
        version: String(app.config.get('app.version') ?? '0.0.0'),
        git: await gitHash(cwd),
        dryRun: settings.dryRun,
        steps,
        warnings,
      };
      for (const warning of warnings) ui.warn(warning);
      ui.output(summary, () => {
        ui.success(
          `${summary.app} is up to date${summary.dryRun ? ' (dry run: nothing changed)' : ''}`,
        );
        ui.line(`  app      ${summary.app} ${summary.version}`);
        ui.line(`  env      ${summary.env}`);
        ui.line(`  git      ${summary.git}`);
        ui.line(`  steps    ${steps.map((s) => `${s.name} (${s.status})`).join(', ')}`);
      });
      return 0;
    } finally {
      await app.shutdown('setup:update finished');
    }
  },
});
