import { defineError } from '../../support/index.js';

/** One env reference that could not be cast, named by variable and config path. */
export interface EnvCastFailure {
  key: string;
  path: string;
  cast: string;
  reason: string;
}

/** One failed check of a config value, by full path (`catalog.pageSize`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export const E_ENV_CAST = defineError(
  'E_ENV_CAST',
  (failures: EnvCastFailure[]) =>
    'Cannot cast environment variables used by config:\n' +
    failures.map((f) => `  ${f.key} (config "${f.path}", as ${f.cast}): ${f.reason}`).join('\n'),
  {
    status: 500,
    help: 'Fix the variable in the environment or .env so it reads as the type the config file asks for, or unset it to use the default.',
    details: (failures) => ({ failures }),
  },
);

export const E_ENV_REF_INVALID = defineError(
  'E_ENV_REF_INVALID',
  (reason: string) => `Invalid env() reference: ${reason}`,
  {
    status: 500,
    help: "Call env() with a variable name and an optional JSON-serialisable default: env('PORT', 3000).",
  },
);

export const E_CONFIG_INVALID = defineError(
  'E_CONFIG_INVALID',
  (issues: ConfigIssue[]) =>
    `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
    issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
  {
    status: 500,
    help: 'Fix the listed keys in the config files or module config, or the variables they read (`env()` references, `KEEL_CONFIG__*` overrides).',
    details: (issues) => ({ issues }),
  },
);

export const E_CONFIG_SCHEMA_ASYNC = defineError(
  'E_CONFIG_SCHEMA_ASYNC',
  (namespace: string) => `The config schema of "${namespace}" validated asynchronously`,
  {
    status: 500,
    help: 'Build the configuration with ConfigRepository.buildAsync(), or make the schema synchronous.',
    details: (namespace) => ({ namespace }),
  },
);

export const E_CONFIG_FILE_INVALID = defineError(
  'E_CONFIG_FILE_INVALID',
  (file: string, reason: string) => `Config file ${file}: ${reason}`,
  {
    status: 500,
    help: 'A config file must `export default defineConfig({ ... })`, an object; its file name (letters, digits, - and _) is its namespace.',
    details: (file) => ({ file }),
  },
);

export const E_CONFIG_LAYER_INVALID = defineError(
  'E_CONFIG_LAYER_INVALID',
  (layer: string, reason: string) => `Config layer "${layer}": ${reason}`,
  {
    status: 500,
    help: 'Pass each layer once, as { name, values } with values a plain object of namespaces.',
    details: (layer) => ({ layer }),
  },
);

export const E_CONFIG_OVERRIDE_INVALID = defineError(
  'E_CONFIG_OVERRIDE_INVALID',
  (variable: string, reason: string) => `Config override ${variable}: ${reason}`,
  {
    status: 500,
    help: 'Name overrides `KEEL_CONFIG__<namespace>__<key>__<subkey>`, with `__` only between path segments.',
    details: (variable) => ({ variable }),
  },
);

export const E_CONFIG_NAMESPACE_NOT_FOUND = defineError(
  'E_CONFIG_NAMESPACE_NOT_FOUND',
  (namespace: string, suggestion?: string) =>
    `No config namespace "${namespace}"` + (suggestion ? ` (did you mean "${suggestion}"?)` : ''),
  {
    status: 500,
    help: 'Add config/<namespace>.ts, a module config, or a schema with defaults for it; check the spelling.',
    details: (namespace: string, _suggestion?: string) => ({ namespace }),
  },
);
