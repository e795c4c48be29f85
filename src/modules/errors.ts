import { defineError } from '../support/index.js';

const list = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');

export const E_INVALID_MODULE_MANIFEST = defineError(
  'E_INVALID_MODULE_MANIFEST',
  (source: string, problems: readonly string[]) =>
    `Invalid module manifest in ${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
  {
    status: 500,
    help: 'Fix the listed fields in the module.ts defineModule({ ... }) call; see docs/modules.md for the manifest reference.',
    details: (source, problems) => ({ source, problems: [...problems] }),
  },
);

export const E_MODULES_DIR_NOT_FOUND = defineError(
  'E_MODULES_DIR_NOT_FOUND',
  (dir: string) => `Modules folder "${dir}" does not exist`,
  {
    status: 500,
    help: 'Create the folder, or point `modules` in keel.config.ts at the folder that holds your modules.',
    details: (dir) => ({ dir }),
  },
);

export const E_MODULE_LOAD_FAILED = defineError(
  'E_MODULE_LOAD_FAILED',
  (what: string, reason: string) => `Could not load ${what}: ${reason}`,
  {
    status: 500,
    help: 'Fix the error in the file named above (the original error is attached as `cause`).',
    details: (what) => ({ what }),
  },
);

export const E_MODULE_NO_DEFAULT_EXPORT = defineError(
  'E_MODULE_NO_DEFAULT_EXPORT',
  (file: string) => `Module file "${file}" has no default export`,
  {
    status: 500,
    help: 'End the file with `export default defineModule({ name, version, ... })`.',
    details: (file) => ({ file }),
  },
);

export const E_MODULE_DUPLICATE = defineError(
  'E_MODULE_DUPLICATE',
  (name: string, firstDir: string, secondDir: string) =>
    `Two modules are named "${name}": "${firstDir}" and "${secondDir}"`,
  {
    status: 500,
    help: 'Module names must be unique: rename one of them (its `name` in module.ts) or remove the copy.',
    details: (name, firstDir, secondDir) => ({ name, dirs: [firstDir, secondDir] }),
  },
);

export const E_MODULE_CYCLE = defineError(
  'E_MODULE_CYCLE',
  (cycle: readonly string[]) => `Module dependency cycle: ${cycle.join(' → ')}`,
  {
    status: 500,
    help: 'Remove one of the `dependsOn` entries in the cycle, or move the shared part into a module both can depend on.',
    details: (cycle) => ({ cycle: [...cycle] }),
  },
);

export const E_MODULE_DEPENDENCY_MISSING = defineError(
  'E_MODULE_DEPENDENCY_MISSING',
  (module: string, dependency: string, range: string, suggestion?: string) =>
    `Module "${module}" depends on "${dependency}" (${range}), which is not installed` +
    (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    status: 500,
    help: 'Add the missing module to the modules folder, or remove it from `dependsOn`.',
    details: (module, dependency, range, suggestion?: string) => ({
      module,
      dependency,
      range,
      suggestion,
    }),
  },
);

export const E_MODULE_DEPENDENCY_INCOMPATIBLE = defineError(
  'E_MODULE_DEPENDENCY_INCOMPATIBLE',
  (module: string, dependency: string, range: string, found: string) =>
    `Module "${module}" requires "${dependency}" ${range}, but version ${found} is installed`,
  {
    status: 500,
    help: 'Install a version of the dependency that satisfies the range, or widen the range in `dependsOn`.',
    details: (module, dependency, range, found) => ({ module, dependency, range, found }),
  },
);

export const E_MODULE_DEPENDENCY_DISABLED = defineError(
  'E_MODULE_DEPENDENCY_DISABLED',
  (module: string, disabled: readonly string[]) =>
    `Module "${module}" depends on disabled module${disabled.length > 1 ? 's' : ''} ${list(disabled)}`,
  {
    status: 500,
    help: 'Enable the dependencies first (`keel module:enable <name>`), or enable with --cascade to enable them too.',
    details: (module, disabled) => ({ module, disabled: [...disabled] }),
  },
);

export const E_MODULE_HAS_DEPENDENTS = defineError(
  'E_MODULE_HAS_DEPENDENTS',
  (module: string, dependents: readonly string[]) =>
    `Cannot disable module "${module}": enabled module${dependents.length > 1 ? 's' : ''} ${list(dependents)} depend${dependents.length > 1 ? '' : 's'} on it`,
  {
    status: 409,
    help: 'Disable the dependents first, or disable with --cascade to disable them too.',
    details: (module, dependents) => ({ module, dependents: [...dependents] }),
  },
);

export const E_MODULE_NOT_FOUND = defineError(
  'E_MODULE_NOT_FOUND',
  (name: string, suggestion?: string) =>
    `Unknown module "${name}"` + (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    status: 404,
    help: 'Run `keel module:list` to see the discovered modules.',
    details: (name, suggestion?: string) => ({ name, suggestion }),
  },
);

export const E_MODULE_HOOK_FAILED = defineError(
  'E_MODULE_HOOK_FAILED',
  (module: string, hook: string, reason: string) =>
    `Hook ${hook} of module "${module}" failed: ${reason}`,
  {
    status: 500,
    help: 'Fix the hook (the original error is attached as `cause`) and run the command again: completed steps are recorded, so it resumes where it stopped.',
    details: (module, hook) => ({ module, hook }),
  },
);

export const E_MODULE_HOOK_CONTEXT_MISSING = defineError(
  'E_MODULE_HOOK_CONTEXT_MISSING',
  (module: string, hook: string) =>
    `Module "${module}" has a ${hook} hook, but no hook context factory was given to the module manager`,
  {
    status: 500,
    help: 'Pass `context` to new ModuleManager({ ... }) or to the call, or pass skipHooks: true.',
    details: (module, hook) => ({ module, hook }),
  },
);

export const E_MODULE_STATE_CORRUPT = defineError(
  'E_MODULE_STATE_CORRUPT',
  (file: string, reason: string) => `Module state file "${file}" is corrupt: ${reason}`,
  {
    status: 500,
    help: 'Fix the file by hand or restore it from a backup. Deleting it makes every module look newly added: they are enabled again and their onInstall hooks run on the next setup.',
    details: (file, reason) => ({ file, reason }),
  },
);

export const E_MODULE_ILLEGAL_TRANSITION = defineError(
  'E_MODULE_ILLEGAL_TRANSITION',
  (module: string, from: string, to: string) =>
    `Module "${module}" cannot go from "${from}" to "${to}"`,
  {
    status: 500,
    help: 'This is a bug in the code driving the module lifecycle; see the runtime states in docs/modules.md.',
    details: (module, from, to) => ({ module, from, to }),
  },
);

export const E_MODULE_RUNTIME_SNAPSHOT_CORRUPT = defineError(
  'E_MODULE_RUNTIME_SNAPSHOT_CORRUPT',
  (file: string, reason: string) => `Module runtime snapshot "${file}" is corrupt: ${reason}`,
  {
    status: 500,
    help: 'Delete the file: the running application rewrites it on its next module state change.',
    details: (file, reason) => ({ file, reason }),
  },
);
