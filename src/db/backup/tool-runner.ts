import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { E_BACKUP_TOOL_MISSING } from '../errors.js';

/**
 * The first of `names` found as an executable on `path` (the PATH variable's format).
 * E_BACKUP_TOOL_MISSING names them all when none is there.
 */
export async function findTool(
  names: readonly string[],
  dialect: string,
  path: string = process.env.PATH ?? '',
): Promise<string> {
  for (const name of names) {
    for (const dir of path.split(delimiter)) {
      if (!dir) continue;
      const file = join(dir, name);
      try {
        await access(file, constants.X_OK);
        return file;
      } catch {
        // not in this folder
      }
    }
  }
  throw new E_BACKUP_TOOL_MISSING([...names], dialect);
}

export interface ToolOptions {
  /**
   * Added to the process environment: passwords travel here, never in argv. A key set to
   * undefined is removed from what the tool inherits.
   */
  env?: Record<string, string | undefined>;
  /** A file fed to the tool's stdin. */
  stdinFile?: string;
}

/**
 * Run a database tool with arguments (no shell) and wait for it. A non-zero exit rejects
 * with the end of what it wrote to stderr.
 */
export async function runTool(file: string, args: readonly string[], options: ToolOptions = {}) {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...options.env }))
    if (value !== undefined) env[name] = value;
  const input = options.stdinFile ? await open(options.stdinFile, 'r') : undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(file, args, {
        env,
        stdio: [input ? input.fd : 'ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        // Keep the end: tools print the error that matters last.
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (code === 0) return resolve();
        const reason = stderr.trim().split('\n').slice(-6).join('\n');
        reject(
          new Error(
            `${file.split('/').pop()} exited with ${signal ?? `code ${code}`}${reason ? `: ${reason}` : ''}`,
          ),
        );
      });
    });
  } finally {
    await input?.close();
  }
}
