import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the bench harness is plain JavaScript, without declarations.
import * as costs from '../bench/http/lib/function-costs.mjs';

const { addCosts, categoryOf, functionCosts, nameAt, readPerfMap, summarize } = costs;

const dir = mkdtempSync(`${os.tmpdir()}/keel-function-costs-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = new URL('../', import.meta.url).pathname;

// Two JIT functions (one at two tiers), a regular expression, and a gap between them.
const mapFile = `${dir}/perf-1.map`;
writeFileSync(
  mapFile,
  [
    `1000 100 JS:*read file://${root}dist/http/body/body-reader.js:64:9`,
    '2000 80 JS:~emit node:events:517:44',
    `3000 40 JS:^read file://${root}dist/http/body/body-reader.js:64:9`,
    'not a map line',
    '4000 10 RegExp:^[a-z]+$',
    '5000 10 JS:* :3:17',
    '',
  ].join('\n'),
);

// A callgrind dump: self costs under each fn=, the line after calls= is a callee's
// inclusive cost and must not count; trailing zero events are left out of a line.
const dump = [
  'events: Ir Dr D1mr D1mw ILmr DLmr DLmw',
  'fn=0x0000000000001010',
  '12 300 10 4 1 0 2',
  '+2 100 5 1',
  'cfn=0x0000000000002000',
  'calls=1 0',
  '14 5000 300',
  'fn=0x0000000000002010',
  '* 200 0',
  'fn=0x0000000000003004',
  '1 50 0',
  'fn=0x0000000000000500',
  '1 7 0',
  'fn=Builtins_LoadIC',
  '0 400 40',
  'fn=llhttp__internal_execute',
  '0 90 9',
  '',
].join('\n');

describe('bench function costs (cost.mjs --functions)', () => {
  const map = readPerfMap(mapFile);
  const costs0 = () => functionCosts(dump, map);

  it('names an address inside a code range and nothing in a gap', () => {
    expect(nameAt(map, 0x1000)).toBe('read dist/http/body/body-reader.js:64:9');
    expect(nameAt(map, 0x1099)).toBe('read dist/http/body/body-reader.js:64:9');
    expect(nameAt(map, 0x1100)).toBeUndefined();
    expect(nameAt(map, 0x10)).toBeUndefined();
    expect(nameAt(map, 0x4005)).toBe('RegExp:^[a-z]+$');
    expect(nameAt(map, 0x5000)).toBe(' :3:17 (eval)');
  });

  it('sums self cost per function, one name whatever the tier, skipping call costs', () => {
    const result = functionCosts(dump, map);
    const ir = Object.fromEntries([...result].map(([name, cost]) => [name, cost.ir]));
    expect(ir).toEqual({
      'read dist/http/body/body-reader.js:64:9': 450,
      'emit node:events:517:44': 200,
      '(unnamed JIT code)': 7,
      Builtins_LoadIC: 400,
      llhttp__internal_execute: 90,
    });
    expect(result.get('read dist/http/body/body-reader.js:64:9')).toEqual({
      ir: 450,
      d1: 6,
      ll: 2,
    });
  });

  it('sorts functions into origins and reports per request', () => {
    expect(categoryOf('read dist/http/body/body-reader.js:64:9')).toBe('keel');
    expect(categoryOf('postOrders bench/http/peers/node-http.mjs:52:26')).toBe('peer');
    expect(categoryOf('parse node_modules/secure-json-parse/index.js:1:1')).toBe('dependencies');
    expect(categoryOf('emit node:events:517:44')).toBe('node JS');
    expect(categoryOf('Builtins_LoadIC')).toBe('V8');
    expect(categoryOf('v8::internal::Heap::Scavenge()')).toBe('V8');
    expect(categoryOf('llhttp__internal_execute')).toBe('native');
    expect(categoryOf('std::_Rb_tree<node::Parser*>, node::Parser*')).toBe('native');
    expect(categoryOf(' :3:17 (eval)')).toBe('eval JS');

    const summary = summarize(addCosts(addCosts(new Map(), costs0()), costs0()), 20, 2);
    expect(summary.simulated).toBe(true);
    expect(summary.categories.keel).toEqual({ ir: 45, d1: 0.6, ll: 0.2 });
    expect(summary.categories['node JS'].ir).toBe(20);
    expect(summary.categories.V8.ir).toBeCloseTo(40.7);
    expect(summary.categories.native.ir).toBe(9);
    expect(summary.functions.map((f: { name: string }) => f.name)).toEqual([
      'read dist/http/body/body-reader.js:64:9',
      'Builtins_LoadIC',
    ]);
    expect(summary.byD1[0]).toEqual({
      name: 'read dist/http/body/body-reader.js:64:9',
      category: 'keel',
      ir: 45,
      d1: 0.6,
      ll: 0.2,
    });
  });

  it('reads a missing perf map as empty, and a dump without simulation as instructions only', () => {
    const empty = readPerfMap(`${dir}/none.map`);
    expect(nameAt(empty, 0x1000)).toBeUndefined();
    const result = functionCosts('events: Ir\nfn=0x1000\n1 5\n', empty);
    expect(Object.fromEntries(result)).toEqual({ '(unnamed JIT code)': { ir: 5, d1: 0, ll: 0 } });
    const summary = summarize(result, 1);
    expect(summary.simulated).toBe(false);
    expect(summary.byD1).toBeUndefined();
  });
});
