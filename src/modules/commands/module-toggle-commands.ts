import {
  type Application,
  type CommandContext,
  type CommandDefinition,
  defineCommand,
} from '../../kernel/index.js';
import type { HookContextFactory } from '../module-manager.js';
import { E_MODULE_APP_UNAVAILABLE } from './errors.js';
import {
  errorSummary,
  hasCompiledArtifacts,
  type ModuleWorkspace,
  openModuleWorkspace,
} from './module-workspace.js';

/** What `module:enable --json` and `module:disable --json` print. */
export interface ModuleToggleOutput {
  action: 'enable' | 'disable';
  module: string;
  /** The modules switched, in the order they were switched; empty when nothing changed. */
  changed: string[];
}

/**
 * Hooks get the application booted with the modules that were enabled before the command
 * ran, and only when a hook is about to run (the manager asks for a context only then):
 * toggling a module without hooks, or one never installed, boots nothing. On enable, the
 * module's own providers are therefore not loaded yet; on disable, they still are.
 */
function hookContext(
  workspace: ModuleWorkspace,
  hook: 'onEnable' | 'onDisable',
): HookContextFactory<Application> {
  return async (module) => {
    let app: Application;
    try {
      app = await workspace.bootedApp();
    } catch (error) {
      if (workspace.app) throw error;
      throw new E_MODULE_APP_UNAVAILABLE(module.manifest.name, hook, errorSummary(error)).withCause(
        error,
      );
    }
    return { app, module: module.manifest, dir: module.dir };
  };
}

function toggleCommand(action: 'enable' | 'disable'): CommandDefinition {
  const hook = action === 'enable' ? 'onEnable' : 'onDisable';
  return defineCommand({
    name: `module:${action}`,
    description:
      action === 'enable'
        ? 'Enable a module (--cascade enables its disabled dependencies too) and run its onEnable hook'
        : 'Disable a module (--cascade disables the modules depending on it too) and run its onDisable hook',
    arguments: [{ name: 'name', description: 'the module name', required: true }],
    options: [
      {
        flags: '--cascade',
        description:
          action === 'enable'
            ? 'also enable disabled dependencies'
            : 'also disable enabled dependents',
      },
      { flags: '--skip-hooks', description: `switch without running ${hook}` },
    ],
    json: true,
    // Loaded inside, so that a module which stops the application from loading can be disabled.
    needs: 'nothing',
    async handle({ cwd, args, options, ui, createApp }: CommandContext) {
      const name = String(args.name);
      const workspace = await openModuleWorkspace(cwd, { json: ui.json, createApp });
      try {
        const toggle = {
          cascade: Boolean(options.cascade),
          skipHooks: Boolean(options.skipHooks),
          context: hookContext(workspace, hook),
        };
        const changed =
          action === 'enable'
            ? await workspace.manager.enable(name, toggle)
            : await workspace.manager.disable(name, toggle);
        const output: ModuleToggleOutput = { action, module: name, changed };
        ui.output(output, () => {
          if (changed.length === 0) {
            ui.info(`module "${name}" is already ${action}d; nothing changed`);
            return;
          }
          ui.success(`${action}d: ${changed.join(', ')}`);
          if (action === 'enable')
            ui.line(ui.dim('  run `keel setup:update` to install modules that were never set up'));
          if (hasCompiledArtifacts(workspace.paths))
            ui.line(ui.dim('  run `keel compile` to refresh the compiled artifacts in var/cache'));
        });
        return 0;
      } finally {
        await workspace.close();
      }
    },
  });
}

export const moduleEnableCommand = toggleCommand('enable');
export const moduleDisableCommand = toggleCommand('disable');
