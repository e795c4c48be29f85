import { relative } from 'node:path';
import { defineCommand } from '../../kernel/index.js';
import type { ModuleErrorRecord } from '../module-runtime.js';
import {
  errorSummary,
  formatDuration,
  type ModuleProblem,
  moduleProblems,
  moduleRuntime,
  openModuleWorkspace,
  readRuntimeView,
} from './module-workspace.js';

/** One row of `module:list --json`. */
export interface ModuleListEntry {
  name: string;
  version: string;
  description?: string;
  enabled: boolean;
  installedVersion?: string;
  /** What the next `setup:update` does for it. */
  pending?: 'install' | 'upgrade' | 'downgrade';
  dependsOn: Record<string, string>;
  runtime: {
    state: string;
    live: boolean;
    uptime: number;
    restartCount: number;
    errorCount: number;
    lastError?: ModuleErrorRecord;
  };
  health: 'ok' | 'problems';
  problems: ModuleProblem[];
}

/** What `module:list --json` prints. */
export interface ModuleListOutput {
  modules: ModuleListEntry[];
  /** The snapshot a running application wrote, if any. */
  runtime: { file: string; pid: number; writtenAt: number; live: boolean } | null;
  /** Why the application could not be loaded; the list then comes from the files alone. */
  appError?: { code?: string; message: string };
}

export const moduleListCommand = defineCommand({
  name: 'module:list',
  aliases: ['m:l'],
  description: 'List every module with its version, state, runtime, dependencies and health',
  // The application is loaded inside, so that a module graph that stops it from loading is
  // listed (with its problems) instead of failing the command.
  needs: 'nothing',
  json: true,
  async handle({ cwd, ui, createApp }) {
    const workspace = await openModuleWorkspace(cwd, { json: ui.json, createApp });
    try {
      const statuses = await workspace.manager.list();
      const problems = moduleProblems(workspace.discovered, statuses);
      const runtimeView = await readRuntimeView(workspace.paths);
      const now = Date.now();
      const modules = statuses.map((status): ModuleListEntry => {
        const manifest = workspace.manager.get(status.name).manifest;
        const runtime = moduleRuntime(runtimeView, status.name, now);
        const found = problems.get(status.name) ?? [];
        if (runtime.live && runtime.state === 'failed')
          found.push({
            code: runtime.lastError?.code ?? 'FAILED',
            message: runtime.lastError?.message ?? 'the module failed',
          });
        return {
          name: status.name,
          version: status.version,
          ...(status.description !== undefined ? { description: status.description } : {}),
          enabled: status.enabled,
          ...(status.installedVersion !== undefined
            ? { installedVersion: status.installedVersion }
            : {}),
          ...(status.pending !== undefined ? { pending: status.pending } : {}),
          dependsOn: { ...(manifest.dependsOn ?? {}) },
          runtime: {
            state: runtime.state,
            live: runtime.live,
            uptime: runtime.uptime,
            restartCount: runtime.restartCount,
            errorCount: runtime.errorCount,
            ...(runtime.lastError ? { lastError: runtime.lastError } : {}),
          },
          health: found.length === 0 ? 'ok' : 'problems',
          problems: found,
        };
      });
      const snapshot = runtimeView.snapshot;
      const output: ModuleListOutput = {
        modules,
        runtime: snapshot
          ? {
              file: relative(cwd, runtimeView.file),
              pid: snapshot.pid,
              writtenAt: snapshot.writtenAt,
              live: runtimeView.live,
            }
          : null,
      };
      if (workspace.appError !== undefined) output.appError = describeError(workspace.appError);

      if (runtimeView.error) ui.warn(`runtime snapshot ignored: ${runtimeView.error.message}`);
      ui.output(output, () => {
        ui.table(
          modules.map((m) => ({
            module: m.name,
            version: m.pending ? `${m.version} (${m.pending})` : m.version,
            enabled: m.enabled ? ui.green('yes') : ui.dim('no'),
            state: m.runtime.state,
            uptime: formatDuration(m.runtime.uptime),
            depends: Object.keys(m.dependsOn).join(', ') || '-',
            errors: m.runtime.errorCount,
            health:
              m.health === 'ok' ? ui.green('ok') : ui.red(m.problems.map((p) => p.code).join(', ')),
          })),
          ['module', 'version', 'enabled', 'state', 'uptime', 'depends', 'errors', 'health'],
        );
        for (const m of modules)
          for (const problem of m.problems) ui.line(ui.red(`  ${m.name}: ${problem.message}`));
        if (!snapshot) ui.line(ui.dim('  no running application recorded a runtime snapshot'));
        if (output.appError)
          ui.warn(
            `the application cannot load: ${output.appError.code ?? 'error'}: ${errorSummary(workspace.appError)}`,
          );
      });
      return 0;
    } finally {
      await workspace.close();
    }
  },
});

/** An error reduced to code and message, for JSON output. */
export function describeError(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && code.startsWith('E_') ? { code, message } : { message };
}
