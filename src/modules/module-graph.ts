import semver from 'semver';
import { type KeelError, suggest } from '../support/index.js';
import {
  E_MODULE_CYCLE,
  E_MODULE_DEPENDENCY_DISABLED,
  E_MODULE_DEPENDENCY_INCOMPATIBLE,
  E_MODULE_DEPENDENCY_MISSING,
  E_MODULE_DUPLICATE,
  E_MODULE_NOT_FOUND,
} from './errors.js';
import { compareNames } from './module-discovery.js';
import type { DiscoveredModule, ModuleNode } from './types.js';

export interface ModuleGraphOptions {
  /**
   * The enabled modules, by name (or a predicate). The graph orders these only; a module
   * outside the set still counts for validation, to report an enabled module depending on
   * it. Default: every module is enabled.
   */
  enabled?: Iterable<string> | ((name: string) => boolean);
}

export interface RelationOptions {
  /** Follow the relation all the way (dependencies of dependencies). Default false. */
  transitive?: boolean;
}

/**
 * The dependency graph of the enabled modules: validation (missing, disabled, incompatible
 * dependencies, cycles), a deterministic load order and the relations between modules.
 *
 * @example
 * ```ts
 * const graph = new ModuleGraph(await discoverModules('modules'), { enabled: ['billing', 'customers'] });
 * graph.order().map((m) => m.manifest.name); // ['customers', 'billing']
 * graph.dependents('customers'); // ['billing']
 * ```
 */
export class ModuleGraph<M extends ModuleNode = DiscoveredModule> {
  readonly #modules = new Map<string, M>();
  readonly #enabled = new Set<string>();
  /** name → enabled modules it depends on (sorted). */
  readonly #dependencies = new Map<string, string[]>();
  /** name → enabled modules depending on it (sorted). */
  readonly #dependents = new Map<string, string[]>();
  #rank: Map<string, number> | undefined;
  #cycle: string[] | null | undefined;

  constructor(modules: readonly M[], options: ModuleGraphOptions = {}) {
    for (const module of modules) {
      const { name } = module.manifest;
      const existing = this.#modules.get(name);
      if (existing) throw new E_MODULE_DUPLICATE(name, existing.dir, module.dir);
      this.#modules.set(name, module);
    }
    const { enabled } = options;
    const isEnabled =
      enabled === undefined
        ? () => true
        : typeof enabled === 'function'
          ? enabled
          : (
              (set: Set<string>) => (name: string) =>
                set.has(name)
            )(new Set(enabled));
    for (const name of this.#modules.keys()) if (isEnabled(name)) this.#enabled.add(name);
    for (const [name, module] of this.#modules) {
      const deps = Object.keys(module.manifest.dependsOn ?? {})
        .filter((dep) => this.#enabled.has(dep))
        .sort(compareNames);
      this.#dependencies.set(name, deps);
      if (!this.#enabled.has(name)) continue;
      for (const dep of deps)
        this.#dependents.set(dep, [...(this.#dependents.get(dep) ?? []), name]);
    }
    for (const list of this.#dependents.values()) list.sort(compareNames);
  }

  /** The module called `name`, enabled or not. */
  get(name: string): M | undefined {
    return this.#modules.get(name);
  }

  has(name: string): boolean {
    return this.#modules.has(name);
  }

  isEnabled(name: string): boolean {
    return this.#enabled.has(name);
  }

  /** Every known module (enabled or not), sorted by name. */
  all(): M[] {
    return [...this.#modules.values()].sort((a, b) =>
      compareNames(a.manifest.name, b.manifest.name),
    );
  }

  /** Everything wrong with the enabled set, in a stable order; empty when it can load. */
  problems(): KeelError[] {
    const problems: KeelError[] = [];
    for (const name of [...this.#enabled].sort(compareNames)) {
      const dependsOn = this.#modules.get(name)!.manifest.dependsOn ?? {};
      const disabled: string[] = [];
      for (const dep of Object.keys(dependsOn).sort(compareNames)) {
        const range = dependsOn[dep]!;
        const target = this.#modules.get(dep);
        if (!target) {
          problems.push(
            new E_MODULE_DEPENDENCY_MISSING(name, dep, range, suggest(dep, this.#modules.keys())),
          );
        } else if (!this.#enabled.has(dep)) {
          disabled.push(dep);
        } else if (!semver.satisfies(target.manifest.version, range, { includePrerelease: true })) {
          problems.push(
            new E_MODULE_DEPENDENCY_INCOMPATIBLE(name, dep, range, target.manifest.version),
          );
        }
      }
      if (disabled.length > 0) problems.push(new E_MODULE_DEPENDENCY_DISABLED(name, disabled));
    }
    this.#sort();
    if (this.#cycle) problems.push(new E_MODULE_CYCLE(this.#cycle));
    return problems;
  }

  /** Throw the first problem, if any. */
  assertValid(): void {
    const [first] = this.problems();
    if (first) throw first;
  }

  /**
   * The enabled modules in load order: every module after its dependencies, ties broken
   * alphabetically so that the order never depends on discovery order. Throws the first
   * problem when the graph is invalid, unless `validate: false`, which gives a best-effort
   * order (modules caught in a cycle last).
   */
  order(options: { validate?: boolean } = {}): M[] {
    if (options.validate ?? true) this.assertValid();
    const rank = this.#sort();
    return [...rank.keys()].map((name) => this.#modules.get(name)!);
  }

  /** The enabled modules `name` depends on, in load order. */
  dependencies(name: string, options: RelationOptions = {}): string[] {
    return this.#walk(name, this.#dependencies, options.transitive ?? false);
  }

  /** The enabled modules depending on `name`, in load order. */
  dependents(name: string, options: RelationOptions = {}): string[] {
    return this.#walk(name, this.#dependents, options.transitive ?? false);
  }

  #walk(name: string, edges: Map<string, string[]>, transitive: boolean): string[] {
    if (!this.#modules.has(name))
      throw new E_MODULE_NOT_FOUND(name, suggest(name, this.#modules.keys()));
    const seen = new Set<string>();
    const queue = [...(edges.get(name) ?? [])];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (next === name || seen.has(next)) continue;
      seen.add(next);
      if (transitive) queue.push(...(edges.get(next) ?? []));
    }
    const rank = this.#sort();
    return [...seen].sort((a, b) => rank.get(a)! - rank.get(b)!);
  }

  /**
   * Kahn's algorithm with a sorted ready list. Modules caught in a cycle never become ready;
   * they are ranked after the rest, alphabetically, so relations stay answerable, and one
   * cycle among them is recorded for {@link problems}.
   */
  #sort(): Map<string, number> {
    if (this.#rank) return this.#rank;
    const remaining = new Map<string, number>();
    for (const name of this.#enabled) remaining.set(name, this.#dependencies.get(name)!.length);
    const ready = [...remaining].filter(([, count]) => count === 0).map(([name]) => name);
    const rank = new Map<string, number>();
    while (ready.length > 0) {
      ready.sort(compareNames);
      const name = ready.shift()!;
      remaining.delete(name);
      rank.set(name, rank.size);
      for (const dependent of this.#dependents.get(name) ?? []) {
        const count = remaining.get(dependent)! - 1;
        remaining.set(dependent, count);
        if (count === 0) ready.push(dependent);
      }
    }
    const stuck = [...remaining.keys()].sort(compareNames);
    this.#cycle = stuck.length > 0 ? this.#findCycle(stuck[0]!, new Set(stuck)) : null;
    for (const name of stuck) rank.set(name, rank.size);
    this.#rank = rank;
    return rank;
  }

  /**
   * Every module left by Kahn's algorithm has a dependency also left, so following the first
   * one from any of them must come back to a module already on the path.
   */
  #findCycle(start: string, stuck: Set<string>): string[] {
    const path: string[] = [];
    let current = start;
    while (!path.includes(current)) {
      path.push(current);
      current = this.#dependencies.get(current)!.find((dep) => stuck.has(dep))!;
    }
    const cycle = path.slice(path.indexOf(current));
    const first = cycle.indexOf([...cycle].sort(compareNames)[0]!);
    const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
    return [...rotated, rotated[0]!];
  }
}
