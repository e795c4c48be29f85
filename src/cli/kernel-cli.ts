import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { type CompiledMode, planCompiledBoot } from '../compiler/index.js';
import type { AppDefinition } from '../kernel/index.js';
import {
  Application,
  type CommandContext,
  type CommandDefinition,
  findAppFile,
  installSignalHandlers,
  loadEnvFiles,
  lookupAppEnv,
} from '../kernel/index.js';
import type { DiscoveredModule } from '../modules/index.js';
import { isKeelError, KeelError } from '../support/index.js';
import { CommandRegistry } from './command-registry.js';
import { ConsoleUI } from './console-ui.js';
import { coreCommands } from './core-commands.js';
import { E_COMMAND_FAILED } from './errors.js';
import { frameworkProviders } from './framework-providers.js';

export interface RunCliOptions {
  /** Arguments after `keel` (process.argv.slice(2)). */
  argv: string[];
  cwd?: string;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Environment variables; `process.env` by default. */
  processEnv?: Record<string, string | undefined>;
  /** Install SIGTERM/SIGINT handlers for long-running commands (default true). */
  signals?: boolean;
  /** A bundled build's app: definition, modules and config already imported. */
  bundle?: {
    definition: AppDefinition;
    modules: DiscoveredModule[];
    appConfig: Record<string, Record<string, unknown>>;
  };
  /** Called for long-running commands once they are up, with a stopper. */
  onLongRunning?: (stop: () => Promise<void>) => void;
}

interface GlobalOptions {
  cwd: string;
  verbose: boolean;
  profileBoot: boolean;
}

const GLOBAL_WITH_VALUE = new Set(['--cwd']);

function firstCommandToken(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(token)) {
      i++;
      continue;
    }
    if (!token.startsWith('-')) return token;
  }
  return undefined;
}

function readGlobal(argv: string[], cwd: string): GlobalOptions {
  const options: GlobalOptions = { cwd, verbose: false, profileBoot: false };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--cwd') options.cwd = resolve(cwd, argv[++i] ?? '.');
    else if (token.startsWith('--cwd=')) options.cwd = resolve(cwd, token.slice(6));
    else if (token === '--verbose' || token === '-v') options.verbose = true;
    else if (token === '--profile-boot') options.profileBoot = true;
  }
  return options;
}

function hasApp(cwd: string): boolean {
  try {
    findAppFile(cwd);
    return true;
  } catch {
    return false;
  }
}

/** Print an error the way every command does: code, message, help line; stack with --verbose. */
export function printError(ui: ConsoleUI, error: unknown, verbose: boolean): void {
  if (isKeelError(error)) {
    ui.error(`${error.code}: ${error.message}`);
    if (error.help) ui.line(ui.dim(`  help: ${error.help}`));
  } else {
    ui.error(error instanceof Error ? error.message : String(error));
  }
  if (verbose) {
    let current: unknown = error;
    while (current instanceof Error) {
      ui.line(ui.dim(current.stack ?? current.message));
      current = current.cause;
      if (current) ui.line(ui.dim('caused by:'));
    }
  } else if (error instanceof Error && error.cause instanceof Error) {
    ui.line(ui.dim(`  cause: ${error.cause.message}`));
  }
}

/**
 * Run the `keel` CLI and resolve with the exit code. Core commands are always there;
 * module and app commands are added when the current folder holds an application.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli({ argv: process.argv.slice(2) });
 * ```
 */
export async function runCli(options: RunCliOptions): Promise<number> {
  const argv = options.argv;
  const processEnv = options.processEnv ?? process.env;
  const global = readGlobal(argv, options.cwd ?? process.cwd());
  const wantsJson = argv.includes('--json');
  const ui = new ConsoleUI({
    json: wantsJson,
    ...(options.stdout ? { stdout: options.stdout } : {}),
    ...(options.stderr ? { stderr: options.stderr } : {}),
    ...(options.stdin ? { stdin: options.stdin } : {}),
  });

  const registry = new CommandRegistry();
  for (const command of coreCommands) registry.add(command);

  let app: Application | undefined;
  const appEnv = (): string => {
    const raw = { ...loadEnvFiles({ cwd: global.cwd, processEnv }) };
    return (raw.APP_ENV ? lookupAppEnv(raw.APP_ENV) : undefined) ?? 'development';
  };
  const createApp = async (command?: CommandDefinition): Promise<Application> => {
    if (app) return app;
    if (options.bundle) {
      const bundle = options.bundle;
      app = await Application.create({
        root: global.cwd,
        environment: command?.environment ?? 'console',
        profile: global.profileBoot,
        processEnv,
        definition: bundle.definition,
        appConfig: bundle.appConfig,
        providers: frameworkProviders,
        moduleSource: { kind: 'bundle', load: async () => bundle.modules },
      });
      return app;
    }
    const mode: CompiledMode = command?.scan
      ? 'never'
      : appEnv() === 'production'
        ? 'require'
        : 'auto';
    const plan = await planCompiledBoot(global.cwd, mode);
    app = await Application.create({
      root: global.cwd,
      environment: command?.environment ?? 'console',
      profile: global.profileBoot,
      processEnv,
      providers: frameworkProviders,
      ...plan.options,
    });
    if (global.verbose) ui.info(`boot: ${plan.mode} (${plan.reason})`);
    return app;
  };

  const name = firstCommandToken(argv);
  const workers = workersOption(argv);
  if ((name === 'serve' || name === 'start') && workers !== undefined && workers !== 1) {
    return serveCluster(options, workers);
  }
  const needsModuleCommands = name === undefined || name === 'help' || !registry.has(name);
  try {
    if (needsModuleCommands && (options.bundle || hasApp(global.cwd))) {
      const loaded = await createApp();
      for (const command of loaded.commands) registry.add(command);
    }
  } catch (error) {
    printError(ui, error, global.verbose);
    if (name !== undefined && name !== 'help') return 1;
  }
  if (name !== undefined && name !== 'help') {
    try {
      registry.get(name);
    } catch (error) {
      printError(ui, error, global.verbose);
      return 1;
    }
  }

  let exitCode = 0;
  const program = new Command('keel')
    .description('Keel: the enterprise TypeScript framework')
    .option('--cwd <dir>', 'application folder', '.')
    .option('-v, --verbose', 'print debug output and stack traces')
    .option('--profile-boot', 'print the time spent in each boot phase and provider')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => (options.stdout ?? process.stdout).write(text),
      writeErr: (text) => (options.stderr ?? process.stderr).write(text),
    });

  for (const def of registry.all()) {
    const sub = program.command(def.name).description(def.description);
    if (def.aliases?.length) sub.aliases(def.aliases);
    for (const arg of def.arguments ?? []) {
      const label = `${arg.name}${arg.variadic ? '...' : ''}`;
      sub.argument(arg.required ? `<${label}>` : `[${label}]`, arg.description ?? '');
    }
    for (const option of def.options ?? []) {
      if (option.default === undefined) sub.option(option.flags, option.description ?? '');
      else sub.option(option.flags, option.description ?? '', option.default as string | boolean);
    }
    if (def.json) sub.option('--json', 'print machine-readable JSON');
    sub.action(async (...received: unknown[]) => {
      const commandOptions = received.at(-2) as Record<string, unknown>;
      const args: Record<string, string | string[] | undefined> = {};
      (def.arguments ?? []).forEach((arg, i) => {
        args[arg.name] = received[i] as string | string[] | undefined;
      });
      exitCode = await execute(def, args, commandOptions);
    });
  }

  /**
   * `done` resolves with the exit code once a SIGTERM/SIGINT has shut `app` down; `cancel`
   * removes the handlers when the command fails before it is up.
   */
  const waitForSignal = (app: Application): { done: Promise<number>; cancel: () => void } => {
    // Without a server socket nothing else may hold the event loop open; a pending
    // promise does not, so keep one timer alive until the signal arrives.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    let remove = (): void => {};
    const done = new Promise<number>((resolve) => {
      remove = installSignalHandlers({
        shutdown: async (signal) => {
          ui.info(`${signal} received, shutting down (send it again to force)`);
          await app.shutdown(signal);
        },
        exit: (exitCode) => {
          remove();
          clearInterval(keepAlive);
          resolve(exitCode);
        },
        // A second signal: the operator wants out now, whatever is still running.
        onForced: (signal) => {
          ui.warn('forced exit');
          process.exit(signal === 'SIGINT' ? 130 : 143);
        },
        onError: (error) => printError(ui, error, global.verbose),
      });
    });
    return {
      done,
      cancel: () => {
        remove();
        clearInterval(keepAlive);
      },
    };
  };

  const execute = async (
    def: CommandDefinition,
    args: Record<string, string | string[] | undefined>,
    commandOptions: Record<string, unknown>,
  ): Promise<number> => {
    const needs = def.needs ?? 'booted';
    let target: Application | undefined;
    try {
      if (needs !== 'nothing') {
        target = await createApp(def);
        if (needs === 'registered' && target.state === 'created') target.register();
        if (needs === 'booted' && target.lifecycle.is('created', 'registered')) await target.boot();
        if (needs === 'started') await target.start();
        if (global.profileBoot && target.profiler) ui.line(target.profiler.format());
      }
      const ctx: CommandContext = {
        app: target,
        cwd: global.cwd,
        args,
        options: commandOptions,
        ui,
        verbose: global.verbose,
        processEnv,
        createApp: (extra = {}) =>
          Application.create({
            root: global.cwd,
            environment: 'console',
            processEnv,
            providers: frameworkProviders,
            ...extra,
          }),
      };
      // Signal handlers go in before `handle` prints that the app is running, so a signal
      // sent right after that line always gets the graceful path.
      const stopped =
        def.longRunning && target && options.signals !== false ? waitForSignal(target) : undefined;
      let code: number;
      try {
        code = (await def.handle(ctx)) ?? 0;
      } catch (error) {
        stopped?.cancel();
        throw error;
      }
      if (def.longRunning && target) {
        options.onLongRunning?.(() => target!.shutdown('stop requested'));
        if (stopped) return await stopped.done;
        // Without signal handlers (embedding, tests) the caller stops it through `stop`.
        await new Promise<void>((done) => {
          if (target!.lifecycle.is('stopped')) return done();
          const off = target!.lifecycle.onChange((state) => {
            if (state !== 'stopped') return;
            off();
            done();
          });
        });
      }
      return code;
    } catch (error) {
      const reported =
        error instanceof KeelError
          ? error
          : new E_COMMAND_FAILED(def.name, String((error as Error)?.message ?? error)).withCause(
              error,
            );
      printError(ui, reported, global.verbose);
      return 1;
    } finally {
      if (target && !def.longRunning && !target.lifecycle.is('stopped', 'stopping')) {
        await target
          .shutdown('command finished')
          .catch((error: unknown) => printError(ui, error, global.verbose));
      }
    }
  };

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return error.exitCode;
    }
    printError(ui, error, global.verbose);
    return 1;
  } finally {
    if (app && !app.lifecycle.is('stopped', 'stopping') && name === undefined) await app.shutdown();
  }
  if (name === undefined) return 0;
  return exitCode;
}

/** The value of `--workers N` / `--workers=N` (`auto` → one per CPU), if given. */
function workersOption(argv: string[]): number | 'auto' | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const value =
      token === '--workers'
        ? argv[i + 1]
        : token.startsWith('--workers=')
          ? token.slice(10)
          : undefined;
    if (value === undefined) continue;
    if (value === 'auto') return 'auto';
    const n = Number(value);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
  return undefined;
}

function withoutWorkers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workers') {
      i++;
      continue;
    }
    if (argv[i]!.startsWith('--workers=')) continue;
    out.push(argv[i]!);
  }
  return out;
}

/**
 * `keel serve --workers N`: the primary supervises N workers (restarting crashed ones); each
 * worker runs the ordinary `serve` and shares the listening port through node:cluster.
 */
async function serveCluster(options: RunCliOptions, workers: number | 'auto'): Promise<number> {
  const [{ runCluster }, { createLogger }] = await Promise.all([
    import('../http/server/index.js'),
    import('../kernel/index.js'),
  ]);
  let code = 0;
  await runCluster({
    workers,
    logger: createLogger({ name: 'keel-cluster', pretty: Boolean(process.stdout.isTTY) }),
    start: async () => {
      code = await runCli({ ...options, argv: withoutWorkers(options.argv) });
      // A worker's IPC channel keeps it alive after its server closed: let go of it so the
      // worker exits with the command's code and the primary sees a clean stop.
      process.exitCode = code;
      process.disconnect?.();
    },
  });
  return code;
}
