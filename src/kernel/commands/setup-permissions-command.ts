import { chmod, mkdir, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { resolveAppPaths } from '../app-paths.js';
import { defineCommand } from '../command.js';

/** The `var/` folders and the modes they should have: state and backups hold sensitive data. */
export function varFolders(root: string): Array<{ path: string; mode: number }> {
  const paths = resolveAppPaths(root);
  return [
    { path: paths.var, mode: 0o750 },
    { path: paths.cache, mode: 0o750 },
    { path: paths.state, mode: 0o700 },
    { path: paths.data, mode: 0o700 },
    { path: paths.log, mode: 0o750 },
    { path: paths.backups, mode: 0o700 },
    { path: paths.tmp, mode: 0o700 },
  ];
}

/** Create missing `var/` folders and fix their modes; returns what was done. */
export async function ensureVarFolders(
  root: string,
): Promise<Array<{ path: string; action: 'created' | 'fixed' | 'ok'; mode: string }>> {
  const report: Array<{ path: string; action: 'created' | 'fixed' | 'ok'; mode: string }> = [];
  for (const { path, mode } of varFolders(root)) {
    const current = await stat(path).catch(() => undefined);
    let action: 'created' | 'fixed' | 'ok' = 'ok';
    if (!current) {
      await mkdir(path, { recursive: true, mode });
      await chmod(path, mode);
      action = 'created';
    } else if ((current.mode & 0o777) !== mode) {
      await chmod(path, mode);
      action = 'fixed';
    }
    report.push({ path: relative(root, path) || '.', action, mode: mode.toString(8) });
  }
  return report;
}

export const setupPermissionsCommand = defineCommand({
  name: 'setup:permissions',
  aliases: ['s:p'],
  description: 'Create the var/ folders with correct modes and fix them',
  needs: 'nothing',
  json: true,
  async handle({ cwd, ui }) {
    const report = await ensureVarFolders(cwd);
    ui.output(report, () => ui.table(report, ['path', 'action', 'mode']));
    return 0;
  },
});
