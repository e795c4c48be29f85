import path from 'node:path';
import semver from 'semver';
import { deepFreeze, isPlainObject, suggest } from '../support/index.js';
import { E_INVALID_MODULE_MANIFEST } from './errors.js';
import type { Lazy, ModuleHookName, ModuleManifest } from './types.js';

/** Kebab-case: lowercase letters and digits, words joined by single dashes, starting with a letter. */
const MODULE_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 64;

const HOOK_NAMES: readonly ModuleHookName[] = [
  'onInstall',
  'onUpgrade',
  'onEnable',
  'onDisable',
  'beforeSetup',
  'afterSetup',
];

const MANIFEST_KEYS: readonly (keyof ModuleManifest)[] = [
  'name',
  'version',
  'description',
  'dependsOn',
  'providers',
  'routes',
  'events',
  'commands',
  'config',
  'configSchema',
  'migrations',
  'seeders',
  'jobs',
  'hooks',
  'views',
];

/** True when `name` is a valid module name (kebab-case, at most 64 characters). */
export function isModuleName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && MODULE_NAME.test(name);
}

/**
 * True for a strict semantic version as written in a manifest: `1.2.0`, `2.0.0-rc.1+build.5`;
 * not `v1.2.0` or `=1.2.0`, which semver would otherwise accept and rewrite.
 */
export function isSemver(version: unknown): version is string {
  return typeof version === 'string' && semver.valid(version) === version.split('+')[0];
}

const show = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : typeof value;
};

function checkName(manifest: Record<string, unknown>, problems: string[]): void {
  const { name } = manifest;
  if (name === undefined) problems.push('`name` is required');
  else if (!isModuleName(name))
    problems.push(
      `\`name\` must be kebab-case (lowercase letters, digits and dashes, starting with a letter, at most ${MAX_NAME_LENGTH} characters), got ${show(name)}`,
    );
}

function checkVersion(manifest: Record<string, unknown>, problems: string[]): void {
  const { version } = manifest;
  if (version === undefined) problems.push('`version` is required');
  else if (!isSemver(version))
    problems.push(`\`version\` must be a semantic version such as "1.0.0", got ${show(version)}`);
}

function checkDependsOn(manifest: Record<string, unknown>, problems: string[]): void {
  const { dependsOn } = manifest;
  if (dependsOn === undefined) return;
  if (!isPlainObject(dependsOn)) {
    problems.push(
      `\`dependsOn\` must be an object of module name → semver range, got ${show(dependsOn)}`,
    );
    return;
  }
  for (const [name, range] of Object.entries(dependsOn)) {
    if (!isModuleName(name))
      problems.push(`\`dependsOn\` key ${show(name)} is not a valid module name`);
    else if (name === manifest.name)
      problems.push(`\`dependsOn\` lists the module itself ("${name}")`);
    if (typeof range !== 'string' || range.trim() === '' || semver.validRange(range) === null)
      problems.push(
        `\`dependsOn.${name}\` must be a semver range such as "^1.2.0" (or "*" for any version), got ${show(range)}`,
      );
  }
}

function checkHooks(hooks: unknown, problems: string[]): void {
  if (typeof hooks === 'function') return;
  if (hooks === null || typeof hooks !== 'object' || Array.isArray(hooks)) {
    problems.push(
      `\`hooks\` must be an object of hook functions or a loader function, got ${show(hooks)}`,
    );
    return;
  }
  for (const [key, value] of Object.entries(hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(key)) {
      const hint = suggest(key, HOOK_NAMES);
      problems.push(
        `unknown hook \`hooks.${key}\`${hint ? ` (did you mean "${hint}"?)` : ''}; hooks are ${HOOK_NAMES.join(', ')}`,
      );
    } else if (typeof value !== 'function') {
      problems.push(`\`hooks.${key}\` must be a function, got ${show(value)}`);
    }
  }
}

function checkFolder(manifest: Record<string, unknown>, key: string, problems: string[]): void {
  const value = manifest[key];
  if (value === undefined) return;
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) {
    problems.push(
      `\`${key}\` must be a folder path relative to the module folder, got ${show(value)}`,
    );
    return;
  }
  const normalized = path.posix.normalize(value.replaceAll('\\', '/'));
  if (path.isAbsolute(value) || path.posix.isAbsolute(normalized) || /^[a-zA-Z]:/.test(value))
    problems.push(
      `\`${key}\` must be relative to the module folder, got absolute path ${show(value)}`,
    );
  else if (normalized === '..' || normalized.startsWith('../'))
    problems.push(`\`${key}\` must stay inside the module folder, got ${show(value)}`);
}

function isStandardSchema(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const standard = (value as Record<string, unknown>)['~standard'];
  return (
    standard !== null &&
    typeof standard === 'object' &&
    typeof (standard as Record<string, unknown>).validate === 'function'
  );
}

function checkParts(manifest: Record<string, unknown>, problems: string[]): void {
  const { description, providers, commands, config, configSchema, hooks } = manifest;
  if (description !== undefined && typeof description !== 'string')
    problems.push(`\`description\` must be a string, got ${show(description)}`);
  if (providers !== undefined) {
    if (Array.isArray(providers)) {
      providers.forEach((provider, index) => {
        if (typeof provider !== 'function')
          problems.push(`\`providers[${index}]\` must be a provider class, got ${show(provider)}`);
      });
    } else if (typeof providers !== 'function') {
      problems.push(
        `\`providers\` must be an array of provider classes or a loader function, got ${show(providers)}`,
      );
    }
  }
  if (commands !== undefined && !Array.isArray(commands) && typeof commands !== 'function')
    problems.push(`\`commands\` must be an array or a loader function, got ${show(commands)}`);
  const { jobs } = manifest;
  if (jobs !== undefined && !Array.isArray(jobs) && typeof jobs !== 'function')
    problems.push(
      `\`jobs\` must be an array of job classes or a loader function, got ${show(jobs)}`,
    );
  if (config !== undefined && !isPlainObject(config) && typeof config !== 'function')
    problems.push(`\`config\` must be an object or a loader function, got ${show(config)}`);
  if (configSchema !== undefined && !isStandardSchema(configSchema))
    problems.push('`configSchema` must be a Standard Schema (for example a Zod 4 schema)');
  if (hooks !== undefined) checkHooks(hooks, problems);
  for (const key of ['migrations', 'seeders', 'views']) checkFolder(manifest, key, problems);
}

/**
 * Every problem with a manifest, as human-readable lines; empty when it is valid.
 *
 * @example
 * ```ts
 * validateManifest({ name: 'Billing' }); // ['`name` must be kebab-case ...', '`version` is required']
 * ```
 */
export function validateManifest(manifest: unknown): string[] {
  if (!isPlainObject(manifest)) return [`a manifest must be an object, got ${show(manifest)}`];
  const problems: string[] = [];
  for (const key of Object.keys(manifest)) {
    if ((MANIFEST_KEYS as readonly string[]).includes(key)) continue;
    const hint = suggest(key, MANIFEST_KEYS);
    problems.push(`unknown field \`${key}\`${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  checkName(manifest, problems);
  checkVersion(manifest, problems);
  checkDependsOn(manifest, problems);
  checkParts(manifest, problems);
  return problems;
}

/**
 * Validate a manifest and return a frozen copy of it. `source` names where it came from in
 * the error (a file path); by default the module's name.
 */
export function normalizeManifest<App>(
  manifest: unknown,
  source?: string,
): Readonly<ModuleManifest<App>> {
  const problems = validateManifest(manifest);
  if (problems.length > 0) {
    const name =
      isPlainObject(manifest) && typeof manifest.name === 'string' ? manifest.name : undefined;
    const where = source ?? (name !== undefined ? `module "${name}"` : 'defineModule()');
    throw new E_INVALID_MODULE_MANIFEST(
      source !== undefined && name !== undefined ? `${where} (module "${name}")` : where,
      problems,
    );
  }
  const input = manifest as unknown as ModuleManifest<App>;
  const copy: ModuleManifest<App> = { ...input };
  // Only plain data is frozen deeply: routes, events and loaders may be live objects the
  // owning subsystem still needs to mutate (a router, an event map being built).
  if (input.dependsOn) copy.dependsOn = Object.freeze({ ...input.dependsOn });
  if (Array.isArray(input.providers))
    copy.providers = Object.freeze([...input.providers]) as typeof copy.providers;
  if (Array.isArray(input.commands))
    copy.commands = Object.freeze([...input.commands]) as unknown[];
  if (isPlainObject(input.config)) copy.config = deepFreeze(structuredCloneSafe(input.config));
  if (isPlainObject(input.hooks)) copy.hooks = Object.freeze({ ...input.hooks });
  return Object.freeze(copy);
}

/** Clone plain config data when possible, so freezing it cannot freeze the caller's object. */
function structuredCloneSafe<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

/**
 * Declare a module. Validates the manifest (every problem is reported at once) and returns
 * it frozen.
 *
 * @example
 * ```ts
 * // modules/billing/module.ts
 * export default defineModule({
 *   name: 'billing',
 *   version: '1.0.0',
 *   dependsOn: { customers: '^1.0.0' },
 *   hooks: () => import('./hooks.js'),
 * });
 * ```
 */
export function defineModule<App = unknown>(
  manifest: ModuleManifest<App>,
): Readonly<ModuleManifest<App>> {
  return normalizeManifest<App>(manifest);
}

const isClass = (fn: Function): boolean => /^class[\s{]/.test(Function.prototype.toString.call(fn));

const isNamespace = (value: object): boolean =>
  Object.prototype.toString.call(value) === '[object Module]';

/**
 * Resolve a {@link Lazy} value. A function taking no declared parameters (and not a class) is
 * a loader: it is called and awaited. A module namespace with a default export, or an object
 * whose only key is `default`, is unwrapped to that default. Anything else is returned as is,
 * so a routes callback `(router) => ...` stays a value.
 *
 * @example
 * ```ts
 * const hooks = await resolveLazy(manifest.hooks); // imports ./hooks.js on first use
 * ```
 */
export async function resolveLazy<T>(value: Lazy<T> | undefined): Promise<T | undefined> {
  if (typeof value !== 'function' || value.length > 0 || isClass(value))
    return value as T | undefined;
  const loaded: unknown = await (value as () => unknown)();
  if (loaded !== null && typeof loaded === 'object') {
    if (isNamespace(loaded)) return ('default' in loaded ? loaded.default : loaded) as T;
    const keys = Object.keys(loaded);
    if (keys.length === 1 && keys[0] === 'default') return (loaded as { default: T }).default;
  }
  return loaded as T;
}
