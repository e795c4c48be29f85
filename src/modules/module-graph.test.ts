import { describe, expect, it } from 'vitest';
import { fakeModule, names } from './__fixtures__/module-fixtures.js';
import {
  E_MODULE_CYCLE,
  E_MODULE_DEPENDENCY_DISABLED,
  E_MODULE_DEPENDENCY_INCOMPATIBLE,
  E_MODULE_DEPENDENCY_MISSING,
  E_MODULE_DUPLICATE,
  E_MODULE_NOT_FOUND,
} from './errors.js';
import { ModuleGraph } from './module-graph.js';

// An ERP-shaped graph: core ← customers ← billing ← reports, core ← inventory ← reports.
const erp = () => [
  fakeModule('reports', '1.0.0', { billing: '^2.0.0', inventory: '*' }),
  fakeModule('billing', '2.3.0', { customers: '>=1.1.0' }),
  fakeModule('inventory', '1.0.0', { core: '^1.0.0' }),
  fakeModule('customers', '1.1.0', { core: '^1.0.0' }),
  fakeModule('core', '1.5.0'),
];

describe('ModuleGraph order', () => {
  it('puts every module after its dependencies, ties alphabetical', () => {
    const graph = new ModuleGraph(erp());
    expect(names(graph.order())).toEqual(['core', 'customers', 'billing', 'inventory', 'reports']);
  });

  it('does not depend on the order modules are given in', () => {
    const expected = names(new ModuleGraph(erp()).order());
    expect(names(new ModuleGraph(erp().reverse()).order())).toEqual(expected);
    const shuffled = erp();
    shuffled.push(shuffled.shift()!, shuffled.shift()!);
    expect(names(new ModuleGraph(shuffled).order())).toEqual(expected);
  });

  it('orders independent modules alphabetically', () => {
    const graph = new ModuleGraph([fakeModule('zeta'), fakeModule('alpha'), fakeModule('mid')]);
    expect(names(graph.order())).toEqual(['alpha', 'mid', 'zeta']);
    expect(new ModuleGraph([]).order()).toEqual([]);
  });

  it('orders the enabled set only', () => {
    const graph = new ModuleGraph(erp(), { enabled: ['core', 'inventory', 'customers'] });
    expect(names(graph.order())).toEqual(['core', 'customers', 'inventory']);
    expect(graph.isEnabled('billing')).toBe(false);
    expect(graph.has('billing')).toBe(true);
    expect(graph.get('billing')?.manifest.version).toBe('2.3.0');
    expect(names(graph.all())).toEqual(['billing', 'core', 'customers', 'inventory', 'reports']);
    const byPredicate = new ModuleGraph(erp(), { enabled: (name) => name === 'core' });
    expect(names(byPredicate.order())).toEqual(['core']);
  });
});

describe('ModuleGraph validation', () => {
  it('names a cycle from its first module back to it', () => {
    const graph = new ModuleGraph([
      fakeModule('c', '1.0.0', { a: '*' }),
      fakeModule('b', '1.0.0', { c: '*' }),
      fakeModule('a', '1.0.0', { b: '*' }),
      fakeModule('d', '1.0.0', { a: '*' }),
      fakeModule('base'),
    ]);
    expect(() => graph.order()).toThrow(E_MODULE_CYCLE);
    expect(() => graph.order()).toThrow('Module dependency cycle: a → b → c → a');
    const [problem] = graph.problems();
    expect(problem?.details).toEqual({ cycle: ['a', 'b', 'c', 'a'] });
    expect(names(graph.order({ validate: false }))).toEqual(['base', 'a', 'b', 'c', 'd']);
  });

  it('finds the cycle when the walk enters it from outside', () => {
    // `a` is stuck only because it depends on the cycle x ⇄ y.
    const graph = new ModuleGraph([
      fakeModule('a', '1.0.0', { x: '*' }),
      fakeModule('x', '1.0.0', { y: '*' }),
      fakeModule('y', '1.0.0', { x: '*' }),
    ]);
    expect(graph.problems().map((p) => p.message)).toEqual(['Module dependency cycle: x → y → x']);
    // Relations still answer, the modules of the cycle ranked last.
    expect(graph.dependents('y', { transitive: true })).toEqual(['a', 'x']);
  });

  it('names the module, the missing dependency and the range', () => {
    const graph = new ModuleGraph([
      fakeModule('billing', '1.0.0', { custmers: '^1.0.0' }),
      fakeModule('customers'),
    ]);
    expect(() => graph.order()).toThrow(E_MODULE_DEPENDENCY_MISSING);
    expect(() => graph.order()).toThrow(
      'Module "billing" depends on "custmers" (^1.0.0), which is not installed. Did you mean "customers"?',
    );
    const alone = new ModuleGraph([fakeModule('billing', '1.0.0', { ledger: '~2.1.0' })]);
    expect(alone.problems()[0]?.message).toBe(
      'Module "billing" depends on "ledger" (~2.1.0), which is not installed',
    );
  });

  it('names both modules, the range and the version found', () => {
    const graph = new ModuleGraph([
      fakeModule('billing', '1.0.0', { customers: '^2.0.0' }),
      fakeModule('customers', '1.9.3'),
    ]);
    expect(() => graph.order()).toThrow(E_MODULE_DEPENDENCY_INCOMPATIBLE);
    expect(() => graph.order()).toThrow(
      'Module "billing" requires "customers" ^2.0.0, but version 1.9.3 is installed',
    );
  });

  it('accepts prerelease versions within a range', () => {
    const graph = new ModuleGraph([
      fakeModule('billing', '1.0.0', { customers: '^2.0.0' }),
      fakeModule('customers', '2.1.0-beta.2'),
    ]);
    expect(graph.problems()).toEqual([]);
    expect(names(graph.order())).toEqual(['customers', 'billing']);
  });

  it('reports an enabled module depending on disabled ones', () => {
    const graph = new ModuleGraph(erp(), { enabled: ['core', 'reports'] });
    const problems = graph.problems();
    expect(problems).toHaveLength(1);
    expect(E_MODULE_DEPENDENCY_DISABLED.is(problems[0])).toBe(true);
    expect(problems[0]?.message).toBe(
      'Module "reports" depends on disabled modules "billing", "inventory"',
    );
    const single = new ModuleGraph(erp(), { enabled: ['inventory'] });
    expect(single.problems()[0]?.message).toBe(
      'Module "inventory" depends on disabled module "core"',
    );
  });

  it('lists every problem in a stable order', () => {
    const graph = new ModuleGraph(
      [
        fakeModule('b', '1.0.0', { a: '^2.0.0', ghost: '*', off: '*' }),
        fakeModule('a', '1.0.0', { ghost: '1.x' }),
        fakeModule('off'),
        fakeModule('p', '1.0.0', { q: '*' }),
        fakeModule('q', '1.0.0', { p: '*' }),
      ],
      { enabled: ['a', 'b', 'p', 'q'] },
    );
    expect(graph.problems().map((p) => p.code)).toEqual([
      'E_MODULE_DEPENDENCY_MISSING',
      'E_MODULE_DEPENDENCY_INCOMPATIBLE',
      'E_MODULE_DEPENDENCY_MISSING',
      'E_MODULE_DEPENDENCY_DISABLED',
      'E_MODULE_CYCLE',
    ]);
  });

  it('refuses two modules of the same name, naming both folders', () => {
    const first = fakeModule('core');
    const second = { ...fakeModule('core', '2.0.0'), dir: '/vendor/core' };
    expect(() => new ModuleGraph([first, second])).toThrow(E_MODULE_DUPLICATE);
    expect(() => new ModuleGraph([first, second])).toThrow(
      'Two modules are named "core": "/app/modules/core" and "/vendor/core"',
    );
  });
});

describe('ModuleGraph relations', () => {
  const graph = new ModuleGraph(erp());

  it('lists direct and transitive dependencies in load order', () => {
    expect(graph.dependencies('reports')).toEqual(['billing', 'inventory']);
    expect(graph.dependencies('reports', { transitive: true })).toEqual([
      'core',
      'customers',
      'billing',
      'inventory',
    ]);
    expect(graph.dependencies('core', { transitive: true })).toEqual([]);
  });

  it('lists direct and transitive dependents in load order', () => {
    expect(graph.dependents('core')).toEqual(['customers', 'inventory']);
    expect(graph.dependents('core', { transitive: true })).toEqual([
      'customers',
      'billing',
      'inventory',
      'reports',
    ]);
    expect(graph.dependents('reports')).toEqual([]);
  });

  it('relates a disabled module to the enabled ones', () => {
    const partial = new ModuleGraph(erp(), { enabled: ['core', 'customers', 'inventory'] });
    // billing is disabled: its enabled dependencies are known, and nothing enabled depends on it.
    expect(partial.dependencies('billing', { transitive: true })).toEqual(['core', 'customers']);
    expect(partial.dependents('billing')).toEqual([]);
    expect(partial.dependents('core', { transitive: true })).toEqual(['customers', 'inventory']);
  });

  it('refuses unknown names with a suggestion', () => {
    expect(() => graph.dependents('custommers')).toThrow(E_MODULE_NOT_FOUND);
    expect(() => graph.dependents('custommers')).toThrow(
      'Unknown module "custommers". Did you mean "customers"?',
    );
    expect(() => graph.dependencies('zzz')).toThrow(/^Unknown module "zzz"$/);
  });
});
