import { defineError } from '../../support/index.js';

export const E_MODULE_NAME_INVALID = defineError(
  'E_MODULE_NAME_INVALID',
  (name: string, suggestion?: string) =>
    `"${name}" is not a valid module name: use kebab-case (lowercase letters, digits and dashes, starting with a letter)` +
    (suggestion ? `. Did you mean "${suggestion}"?` : ''),
  {
    status: 400,
    help: 'Pick a kebab-case name such as `billing` or `purchase-orders`; it becomes the folder name, the config namespace and the module name.',
    details: (name, suggestion?: string) => ({ name, suggestion }),
  },
);

export const E_MODULE_FOLDER_EXISTS = defineError(
  'E_MODULE_FOLDER_EXISTS',
  (dir: string) => `Folder "${dir}" already exists`,
  {
    status: 409,
    help: 'Choose another name, or pass --force to write the scaffold files over the existing ones (other files are kept).',
    details: (dir) => ({ dir }),
  },
);

export const E_MODULE_STUB_INVALID = defineError(
  'E_MODULE_STUB_INVALID',
  (file: string, reason: string) => `Module stub "${file}" cannot be used: ${reason}`,
  {
    status: 500,
    help: 'Stubs may use {{ name }}, {{ Name }}, {{ camelName }}, {{ rootPath }} and {{ appName }}; fix or delete the custom stub in stubs/module/.',
    details: (file, reason) => ({ file, reason }),
  },
);

export const E_MODULE_APP_UNAVAILABLE = defineError(
  'E_MODULE_APP_UNAVAILABLE',
  (module: string, hook: string, reason: string) =>
    `Module "${module}" has a ${hook} hook, but the application cannot be loaded to run it: ${reason}`,
  {
    status: 500,
    help: 'Fix the error that stops the application from loading, or pass --skip-hooks to switch the module without running its hook.',
    details: (module, hook) => ({ module, hook }),
  },
);
