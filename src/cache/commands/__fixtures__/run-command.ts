import { PassThrough } from 'node:stream';
import { ConsoleUI } from '../../../cli/index.js';
import type {
  Application,
  CommandContext,
  CommandDefinition,
  CommandUI,
} from '../../../kernel/index.js';

export interface CommandRun {
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout parsed, with `json`. */
  json: unknown;
}

/**
 * Run a command's handle on a booted app with a console on memory streams (`--json` by
 * default); `wrap` may decorate the UI (to record progress bars).
 */
export async function runCommand(
  command: CommandDefinition<Application>,
  app: Application,
  options: Record<string, unknown> = {},
  json = true,
  wrap: (ui: CommandUI) => CommandUI = (ui) => ui,
): Promise<CommandRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  stderr.on('data', (chunk) => {
    err += String(chunk);
  });
  const ui = new ConsoleUI({ json, stdout, stderr, colors: false });
  const code = await command.handle({
    app,
    cwd: app.paths.root,
    args: {},
    options,
    verbose: false,
    ui: wrap(ui),
  } as CommandContext<Application>);
  const parsed = json && out.trim() !== '' ? (JSON.parse(out) as unknown) : undefined;
  return { code, stdout: out, stderr: err, json: parsed };
}
