import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  type DotPath,
  deepFreeze,
  deepMerge,
  getPath,
  isPlainObject,
  type PathValue,
  suggest,
} from '../../support/index.js';
import { Env } from '../env/index.js';
import { CONFIG_OVERRIDE_PREFIX, configOverridesFromEnv } from './config-overrides.js';
import { type EnvLookup, resolveEnvRefs } from './env-ref.js';
import {
  type ConfigIssue,
  E_CONFIG_INVALID,
  E_CONFIG_LAYER_INVALID,
  E_CONFIG_NAMESPACE_NOT_FOUND,
  E_CONFIG_SCHEMA_ASYNC,
} from './errors.js';

/**
 * The shape of the application's configuration, by namespace. Empty here; applications and
 * modules add to it so that `config.get('catalog.pageSize')` is typed.
 *
 * @example
 * ```ts
 * declare module 'keel/kernel' {
 *   interface ConfigBindings {
 *     catalog: { pageSize: number };
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface ConfigBindings {}

// A mapped copy: an interface has no implicit index signature, so DotPath would not see into it.
type Bindings = { [K in keyof ConfigBindings]: ConfigBindings[K] };

/** The dot paths declared through {@link ConfigBindings}. */
export type KnownConfigPath = DotPath<Bindings>;

/** Any config path; declared ones autocomplete and are typed, others read as `unknown`. */
export type ConfigPath = KnownConfigPath | (string & {});

/** The type at a config path: declared through {@link ConfigBindings}, else `unknown`. */
export type ConfigValue<P extends string> = P extends KnownConfigPath
  ? PathValue<Bindings, P>
  : unknown;

/** One source of configuration, such as `framework`, `module:catalog`, `app` or `env`. */
export interface ConfigLayer {
  readonly name: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Options of {@link ConfigRepository.build}. */
export interface ConfigBuildOptions {
  /** Layers in precedence order, lowest first: framework, modules, app, then `env`. */
  readonly layers: readonly ConfigLayer[];
  /** A Standard Schema (Zod, Valibot, ArkType…) per namespace; its output replaces the input. */
  readonly schemas?: Readonly<Record<string, StandardSchemaV1>>;
  /**
   * What `env()` references resolve against and `KEEL_CONFIG__*` overrides are read from:
   * an `Env` (validated values, then raw variables) or a map. `process.env` by default.
   */
  readonly env?: EnvLookup;
  /** More raw variables, consulted after `env` for references and overrides. */
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
  /** The prefix of override variables, or `false` for none. Default `KEEL_CONFIG__`. */
  readonly overridePrefix?: string | false;
}

/** The name of the layer built from override variables; it never reaches compiled config. */
export const ENV_LAYER = 'env';

/** A source name reported by `sources()` for a value that only a schema default provides. */
export const SCHEMA_SOURCE = 'schema';

interface Prepared {
  layers: ConfigLayer[];
  unresolved: Record<string, unknown>;
  resolved: Record<string, unknown>;
  pending: Array<{
    namespace: string;
    result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
  }>;
}

/**
 * The application's merged, validated and frozen configuration.
 *
 * Precedence, lowest first: framework defaults, module config, app config, then
 * `KEEL_CONFIG__*` variables (the `env` layer). Objects merge deeply; arrays and other values
 * are replaced. `env()` references are resolved after merging, then each namespace with a
 * schema is validated, and every problem, across all namespaces, is reported at once.
 *
 * @example
 * ```ts
 * const config = ConfigRepository.build({
 *   layers: [
 *     { name: 'framework', values: frameworkDefaults },
 *     { name: 'app', values: await loadConfigDir('config') },
 *   ],
 *   schemas: { catalog: z.object({ pageSize: z.number().default(20) }) },
 *   env,
 * });
 * config.get('catalog.pageSize'); // 20
 * ```
 */
export class ConfigRepository {
  readonly #tree: Readonly<Record<string, unknown>>;
  readonly #unresolved: Readonly<Record<string, unknown>>;
  readonly #layers: readonly ConfigLayer[];

  private constructor(prepared: Prepared, validated: Map<string, unknown>) {
    const tree = { ...prepared.resolved };
    for (const [namespace, value] of validated) tree[namespace] = value;
    this.#tree = deepFreeze(tree);
    this.#unresolved = deepFreeze(prepared.unresolved);
    this.#layers = deepFreeze(prepared.layers);
  }

  /**
   * Merge, resolve and validate synchronously. Throws `E_CONFIG_SCHEMA_ASYNC` if a schema
   * turns out to be asynchronous; use {@link buildAsync} for those.
   */
  static build(options: ConfigBuildOptions): ConfigRepository {
    const prepared = prepare(options);
    for (const { namespace, result } of prepared.pending) {
      if (result instanceof Promise) {
        // Abandoned: keep its rejection from surfacing as an unhandled one.
        result.catch(() => {});
        throw new E_CONFIG_SCHEMA_ASYNC(namespace);
      }
    }
    const settled = prepared.pending as Array<{
      namespace: string;
      result: StandardSchemaV1.Result<unknown>;
    }>;
    return new ConfigRepository(prepared, collect(settled));
  }

  /** Like {@link build}, awaiting schemas that validate asynchronously. */
  static async buildAsync(options: ConfigBuildOptions): Promise<ConfigRepository> {
    const prepared = prepare(options);
    const settled = await Promise.all(
      prepared.pending.map(async ({ namespace, result }) => ({ namespace, result: await result })),
    );
    return new ConfigRepository(prepared, collect(settled));
  }

  /**
   * The value at a dot path, typed through {@link ConfigBindings}; `undefined` (or
   * `defaultValue`) when absent.
   *
   * @example
   * ```ts
   * config.get('catalog.pageSize'); // number
   * config.get('mail.from', 'noreply@example.com');
   * ```
   */
  get<P extends ConfigPath>(path: P): ConfigValue<P>;
  get<P extends ConfigPath, D>(path: P, defaultValue: D): Exclude<ConfigValue<P>, undefined> | D;
  get(path: string, defaultValue?: unknown): unknown {
    const value = getPath(this.#tree, path);
    return value === undefined ? defaultValue : value;
  }

  /** True when the path holds a value (not `undefined`). */
  has(path: ConfigPath): boolean {
    return getPath(this.#tree, path) !== undefined;
  }

  /** The whole resolved configuration, frozen. */
  all(): Readonly<Bindings & Record<string, unknown>> {
    return this.#tree as Readonly<Bindings & Record<string, unknown>>;
  }

  /** The names of every namespace, sorted. */
  namespaces(): string[] {
    return Object.keys(this.#tree).sort();
  }

  /**
   * One namespace's configuration. Throws `E_CONFIG_NAMESPACE_NOT_FOUND`, with a
   * suggestion, for a namespace that does not exist.
   */
  namespace<N extends keyof Bindings | (string & {})>(
    name: N,
  ): N extends keyof Bindings ? Bindings[N] : Readonly<Record<string, unknown>> {
    if (!Object.hasOwn(this.#tree, name)) {
      throw new E_CONFIG_NAMESPACE_NOT_FOUND(name, suggest(name, Object.keys(this.#tree)));
    }
    return this.#tree[name] as N extends keyof Bindings
      ? Bindings[N]
      : Readonly<Record<string, unknown>>;
  }

  /**
   * The layers that set a path, lowest precedence first: the last one is where the value
   * comes from. `['schema']` when only a schema default provides it; `[]` when unset.
   *
   * @example
   * ```ts
   * config.sources('catalog.pageSize'); // ['module:catalog', 'app']
   * ```
   */
  sources(path: ConfigPath): string[] {
    const names = this.#layers
      .filter((layer) => getPath(layer.values, path) !== undefined)
      .map((layer) => layer.name);
    if (names.length === 0 && this.has(path)) return [SCHEMA_SOURCE];
    return names;
  }

  /**
   * The merged tree before env references were resolved and before validation, without the
   * `env` layer: what the compiler writes to `var/cache/config.json`. It holds no values
   * read from the environment.
   */
  unresolved(): Readonly<Record<string, unknown>> {
    return this.#unresolved;
  }

  /** The unresolved tree (see {@link unresolved}), so serialising config never leaks secrets. */
  toJSON(): Readonly<Record<string, unknown>> {
    return this.#unresolved;
  }
}

function prepare(options: ConfigBuildOptions): Prepared {
  const lookups: EnvLookup[] =
    options.env === undefined && options.processEnv === undefined
      ? [process.env]
      : [options.env, options.processEnv].filter((l): l is EnvLookup => l !== undefined);
  const seen = new Set<string>();
  const layers: ConfigLayer[] = [];
  for (const layer of options.layers) {
    if (typeof layer?.name !== 'string' || layer.name === '') {
      throw new E_CONFIG_LAYER_INVALID(String(layer?.name), 'a layer needs a non-empty name');
    }
    if (seen.has(layer.name)) throw new E_CONFIG_LAYER_INVALID(layer.name, 'appears twice');
    if (!isPlainObject(layer.values)) {
      throw new E_CONFIG_LAYER_INVALID(layer.name, 'values must be a plain object of namespaces');
    }
    seen.add(layer.name);
    // Copied, so freezing the repository never freezes the caller's objects or arrays.
    layers.push({ name: layer.name, values: cloneTree(layer.values) });
  }

  const unresolved = cloneTree(
    deepMerge(...layers.filter((layer) => layer.name !== ENV_LAYER).map((layer) => layer.values)),
  );
  const prefix = options.overridePrefix ?? CONFIG_OVERRIDE_PREFIX;
  if (!seen.has(ENV_LAYER) && prefix !== false) {
    const overrides = configOverridesFromEnv(overrideVariables(lookups), unresolved, prefix);
    if (Object.keys(overrides).length > 0) layers.push({ name: ENV_LAYER, values: overrides });
  }

  // An explicit env layer may sit anywhere in the list; it always applies last.
  const envAt = layers.findIndex((layer) => layer.name === ENV_LAYER);
  const envLayer = envAt === -1 ? undefined : layers.splice(envAt, 1)[0];
  if (envLayer) layers.push(envLayer);
  const merged = envLayer ? deepMerge(unresolved, envLayer.values) : unresolved;
  const resolved = resolveEnvRefs(merged, lookups);

  const pending: Prepared['pending'] = [];
  for (const [namespace, schema] of Object.entries(options.schemas ?? {})) {
    // A namespace nobody configured is validated as `{}`, so its schema defaults apply.
    const input = Object.hasOwn(resolved, namespace) ? resolved[namespace] : {};
    pending.push({ namespace, result: schema['~standard'].validate(input) });
  }
  return { layers, unresolved, resolved, pending };
}

/** The string variables of every lookup, the first lookup winning. */
function overrideVariables(lookups: readonly EnvLookup[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const lookup of [...lookups].reverse()) {
    const variables = lookup instanceof Env ? lookup.variables() : lookup;
    for (const [key, value] of Object.entries(variables)) {
      if (typeof value === 'string' && key !== '__proto__') out[key] = value;
    }
  }
  return out;
}

/** A copy of plain objects and arrays (other values shared), without prototype-poisoning keys. */
function cloneTree<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneTree) as T;
  if (!isPlainObject(value)) return value;
  return deepMerge(
    Object.fromEntries(Object.entries(value).map(([key, child]) => [key, cloneTree(child)])),
  ) as T;
}

function collect(
  settled: Array<{ namespace: string; result: StandardSchemaV1.Result<unknown> }>,
): Map<string, unknown> {
  const issues: ConfigIssue[] = [];
  const values = new Map<string, unknown>();
  for (const { namespace, result } of settled) {
    if (result.issues) {
      for (const issue of result.issues) {
        issues.push({ path: formatPath(namespace, issue.path), message: issue.message });
      }
    } else {
      values.set(namespace, result.value);
    }
  }
  if (issues.length > 0) throw new E_CONFIG_INVALID(issues);
  return values;
}

function formatPath(
  namespace: string,
  path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined,
): string {
  let out = namespace;
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return out;
}
