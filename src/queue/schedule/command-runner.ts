import { Command, CommanderError } from 'commander';
import type {
  Application,
  CommandContext,
  CommandDefinition,
  CommandUI,
} from '../../kernel/index.js';
import type { Logger } from '../../kernel/logger.js';
import { suggest } from '../../support/index.js';
import { E_SCHEDULE_COMMAND_FAILED, E_SCHEDULE_COMMAND_NOT_FOUND } from './errors.js';

/** Runs one command in-process and resolves with its exit code. */
export type CommandRunner = (
  command: string,
  argv: readonly string[],
  logger: Logger,
) => Promise<number>;

/** The commands a runner can find: the framework's and the app's, by default. */
export type CommandSource = () => Promise<readonly CommandDefinition[]>;

/**
 * The framework commands plus the app's (modules and definition). The CLI lists the
 * framework's, and it lists the scheduler's commands, so import it lazily: a static import
 * would be a cycle.
 */
export function appCommands(app: Application): CommandSource {
  return async () => {
    const { coreCommands } = await import('../../cli/core-commands.js');
    return [
      ...(coreCommands as readonly CommandDefinition[]),
      ...(app.commands as CommandDefinition[]),
    ];
  };
}

/**
 * A runner for scheduled commands: finds the command by name or alias, parses its argv with
 * the same option and argument definitions as the CLI, and calls its `handle` on `app`
 * (already booted: the scheduler runs inside it), with a UI that writes to the logger. A
 * non-zero exit code or a throw fails the task.
 *
 * @example
 * ```ts
 * const run = commandRunner(app, appCommands(app));
 * await run('cache:gc', [], app.logger); // 0
 * ```
 */
export function commandRunner(app: Application, source: CommandSource): CommandRunner {
  return async (name, argv, logger) => {
    const commands = await source();
    const def = commands.find((c) => c.name === name || c.aliases?.includes(name));
    if (!def)
      throw new E_SCHEDULE_COMMAND_NOT_FOUND(
        name,
        suggest(
          name,
          commands.map((c) => c.name),
        ),
      );
    if (def.longRunning)
      throw new E_SCHEDULE_COMMAND_FAILED(
        name,
        'it is long-running (a server or a worker) and never finishes; run it under a process manager instead',
      );
    const { args, options } = await parseArgv(def, argv);
    const ctx: CommandContext<Application> = {
      app,
      cwd: app.paths.root,
      args,
      options,
      ui: new LoggerUI(logger),
      verbose: false,
    };
    const code = (await (def as CommandDefinition<Application>).handle(ctx)) ?? 0;
    if (code !== 0) throw new E_SCHEDULE_COMMAND_FAILED(name, `it exited with code ${code}`);
    return code;
  };
}

async function parseArgv(
  def: CommandDefinition,
  argv: readonly string[],
): Promise<{
  args: Record<string, string | string[] | undefined>;
  options: Record<string, unknown>;
}> {
  const program = new Command(def.name)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .helpOption(false)
    .allowExcessArguments(false);
  for (const arg of def.arguments ?? []) {
    const label = `${arg.name}${arg.variadic ? '...' : ''}`;
    program.argument(arg.required ? `<${label}>` : `[${label}]`, arg.description ?? '');
  }
  for (const option of def.options ?? []) {
    if (option.default === undefined) program.option(option.flags, option.description ?? '');
    else program.option(option.flags, option.description ?? '', option.default as string | boolean);
  }
  if (def.json) program.option('--json', 'print machine-readable JSON');
  let parsed: {
    args: Record<string, string | string[] | undefined>;
    options: Record<string, unknown>;
  } = {
    args: {},
    options: {},
  };
  program.action((...received: unknown[]) => {
    const args: Record<string, string | string[] | undefined> = {};
    (def.arguments ?? []).forEach((arg, i) => {
      args[arg.name] = received[i] as string | string[] | undefined;
    });
    parsed = { args, options: received.at(-2) as Record<string, unknown> };
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError)
      throw new E_SCHEDULE_COMMAND_FAILED(def.name, error.message.replace(/^error: /, ''));
    throw error;
  }
  return parsed;
}

/** A non-interactive UI whose lines go to the task's logger; tables and JSON as structured data. */
export class LoggerUI implements CommandUI {
  readonly json = false;
  readonly interactive = false;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  info(message: string): void {
    this.#logger.info(message);
  }
  success(message: string): void {
    this.#logger.info(message);
  }
  warn(message: string): void {
    this.#logger.warn(message);
  }
  error(message: string): void {
    this.#logger.error(message);
  }
  line(message = ''): void {
    if (message !== '') this.#logger.info(message);
  }
  table(rows: Array<Record<string, unknown>>): void {
    this.#logger.info({ rows }, `${rows.length} row(s)`);
  }
  output(data: unknown, render?: () => void): void {
    if (render) render();
    else this.#logger.info({ output: data }, 'output');
  }
  progress(): { tick(n?: number): void; done(): void } {
    return { tick: () => {}, done: () => {} };
  }
  // Nobody is there to answer: take the safe default.
  async confirm(_question: string, defaultValue = false): Promise<boolean> {
    return defaultValue;
  }
  dim(text: string): string {
    return text;
  }
  bold(text: string): string {
    return text;
  }
  green(text: string): string {
    return text;
  }
  red(text: string): string {
    return text;
  }
  yellow(text: string): string {
    return text;
  }
}
