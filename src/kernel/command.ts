import type { Awaitable } from '../support/index.js';
import type { Application, ApplicationOptions } from './application.js';

/** How much of the application a command needs before it runs. */
export type CommandNeeds = 'nothing' | 'created' | 'registered' | 'booted' | 'started';

export interface CommandArgument {
  name: string;
  description?: string;
  required?: boolean;
  variadic?: boolean;
}

export interface CommandOption {
  /** Commander flags: `'-f, --force'`, `'--step <n>'`, `'--env <name>'`. */
  flags: string;
  description?: string;
  default?: string | boolean | number;
}

/** Terminal output for commands: colours only on a TTY, JSON for scripts. */
export interface CommandUI {
  readonly json: boolean;
  readonly interactive: boolean;
  info(message: string): void;
  success(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  line(message?: string): void;
  /** Print a table (or, with `--json`, nothing: use `output`). */
  table(rows: Array<Record<string, unknown>>, columns?: string[]): void;
  /** Print the command's result: JSON with `--json`, else the fallback renderer. */
  output(data: unknown, render?: () => void): void;
  progress(total: number, label?: string): { tick(n?: number): void; done(): void };
  confirm(question: string, defaultValue?: boolean): Promise<boolean>;
  dim(text: string): string;
  bold(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

export interface CommandContext<App = unknown> {
  /** The application, loaded to the level the command `needs`; undefined for `'nothing'`. */
  readonly app: App;
  /** The application folder. */
  readonly cwd: string;
  readonly args: Record<string, string | string[] | undefined>;
  readonly options: Record<string, unknown>;
  readonly ui: CommandUI;
  readonly verbose: boolean;
  /**
   * Create the application the way `keel serve` does (framework providers, the CLI's env),
   * for commands with `needs: 'nothing'` that decide themselves when and how to boot.
   * Provided by the CLI; absent when a command's `handle` is called directly.
   */
  readonly createApp?: (
    options?: Partial<Omit<ApplicationOptions, 'root'>>,
  ) => Promise<Application>;
  /** The environment variables the CLI was run with. */
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
}

/** A CLI command, from the framework, a module manifest or the app definition. */
export interface CommandDefinition<App = unknown> {
  name: string;
  description: string;
  aliases?: string[];
  arguments?: CommandArgument[];
  options?: CommandOption[];
  /** Adds `--json`. */
  json?: boolean;
  /** Default `'booted'`. */
  needs?: CommandNeeds;
  /** The module that contributed it, set by the kernel. */
  module?: string;
  /** Always scan sources instead of reading compiled artifacts (compile, cache:clear). */
  scan?: boolean;
  /** The entry-point environment the app is created for; default `'console'`. */
  environment?: 'http' | 'console' | 'worker' | 'test';
  /** Keep the process alive after `handle` resolves (servers, workers). */
  longRunning?: boolean;
  /** Return a non-zero number (or throw) to fail. */
  handle(ctx: CommandContext<App>): Awaitable<number | undefined>;
}

/**
 * Define a CLI command.
 *
 * @example
 * ```ts
 * export default defineCommand({
 *   name: 'catalog:reindex',
 *   description: 'Rebuild the product search index',
 *   options: [{ flags: '--dry-run', description: 'Only count' }],
 *   async handle({ app, options, ui }) { ui.success('done'); return 0; },
 * });
 * ```
 */
export function defineCommand<App = unknown>(
  definition: CommandDefinition<App>,
): CommandDefinition<App> {
  return definition;
}
