import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';

/** tsx's loader, for child processes that run an app's TypeScript. */
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A child process with everything it printed (stdout and stderr interleaved). */
export interface KeelProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the signal that ended it (null for a plain exit). */
  readonly exited: Promise<NodeJS.Signals | null>;
}

/**
 * Start `node --import tsx <script> ...args` in `cwd` (a fixture app whose `run.mjs` calls
 * Keel's CLI), in development, without colours. Every process still running after a test
 * is killed with SIGKILL.
 */
export function keelProcesses(): (
  cwd: string,
  args: string[],
  env?: Record<string, string>,
) => KeelProcess {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  return (cwd, args, env = {}) => {
    const child = spawn(process.execPath, ['--import', TSX, ...args], {
      cwd,
      env: { ...process.env, VITEST: '', APP_ENV: 'development', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    return { child, output: () => output, exited };
  };
}
