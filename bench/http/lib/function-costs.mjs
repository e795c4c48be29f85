// Name the JavaScript in a callgrind dump. V8 compiles JavaScript while the program runs, so
// callgrind sees that code as bare addresses ("0x00000000123abc"), and a profile of a Node
// server names only V8's builtins and the C++ around them. A node started with
// `--perf-basic-prof` writes /tmp/perf-<pid>.map, one line per code object it creates
// (start, size, name), which is what Linux perf reads; the same map names callgrind's
// addresses. cost.mjs --functions uses this to say where each server's instructions go.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Node flags for a server whose dumps will be named: the perf map, and no V8 log file
 * (`--perf-basic-prof` turns V8's logger on, which would otherwise drop an
 * `isolate-*-v8.log` into the working folder).
 */
export const PERF_MAP_FLAGS = [
  '--perf-basic-prof',
  '--no-logfile-per-isolate',
  '--logfile=/dev/null',
];

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The perf map a process with `--perf-basic-prof` writes. */
export function perfMapPath(pid) {
  return `/tmp/perf-${pid}.map`;
}

/** Remove a process's perf map (it grows with every function V8 compiles). */
export function removePerfMap(pid) {
  rmSync(perfMapPath(pid), { force: true });
}

/** The code ranges of a perf map, sorted by start address, for {@link nameAt}. */
export function readPerfMap(path) {
  if (!existsSync(path)) return { starts: [], entries: [] };
  const entries = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first < 0 || second < 0) continue;
    const start = Number.parseInt(line.slice(0, first), 16);
    const size = Number.parseInt(line.slice(first + 1, second), 16);
    if (Number.isNaN(start) || Number.isNaN(size)) continue;
    entries.push({ start, end: start + size, name: tidy(line.slice(second + 1)) });
  }
  // A later entry at the same address is code V8 made after freeing the first: keep the
  // newest, since the dump was taken at the end.
  entries.sort((a, b) => a.start - b.start);
  return { starts: entries.map((e) => e.start), entries };
}

/**
 * One name per function whatever tier ran it: `JS:*f file:///…/src/x.js:3:9` (optimized),
 * `JS:^f` (baseline) and `JS:~f` (interpreted) become `f src/x.js:3:9`. Code without a
 * file (from `new Function` or `eval`, as Zod compiles its object schemas) is marked so.
 */
function tidy(name) {
  const js = /^JS:[*^~+-]?(.*)$/.exec(name);
  if (!js) return name;
  const text = js[1].replaceAll(`file://${REPO}`, '').replaceAll(REPO, '');
  return /(^|\s):\d+:\d+$/.test(text) ? `${text} (eval)` : text;
}

/** The name of the code at `address`, or undefined when no map entry holds it. */
export function nameAt(map, address) {
  let low = 0;
  let high = map.starts.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (map.starts[mid] <= address) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  if (found < 0) return undefined;
  const entry = map.entries[found];
  return address < entry.end ? entry.name : undefined;
}

/** Events summed per function: instructions, and simulated misses when the dump has them. */
const EVENTS = { ir: ['Ir'], d1: ['D1mr', 'D1mw'], ll: ['ILmr', 'DLmr', 'DLmw'] };

/**
 * Self cost per function of one callgrind dump, JIT addresses named through `map`:
 * `{ ir, d1, ll }`, instructions and (under `--cache-sim`) D1 and last-level misses, 0 when
 * the dump has no such event. Costs after a `calls=` line are the callee's inclusive cost and
 * are skipped: each function counts only what it executed itself.
 */
export function functionCosts(dumpText, map) {
  const costs = new Map();
  let columns = { ir: [0], d1: [], ll: [] };
  let name;
  let skipNext = false;
  for (const line of dumpText.split('\n')) {
    const head = line.charCodeAt(0);
    // Cost lines start with a position: a number, or +n / -n / * (compressed positions).
    if ((head >= 48 && head <= 57) || head === 43 || head === 45 || head === 42) {
      if (skipNext) {
        skipNext = false;
        continue;
      }
      if (name === undefined) continue;
      // Trailing zero events are left out of a cost line: a missing column reads as 0.
      const parts = line.split(' ');
      const sum = (indexes) => indexes.reduce((n, i) => n + (Number(parts[i + 1]) || 0), 0);
      let cost = costs.get(name);
      if (cost === undefined) {
        cost = { ir: 0, d1: 0, ll: 0 };
        costs.set(name, cost);
      }
      cost.ir += sum(columns.ir);
      cost.d1 += sum(columns.d1);
      cost.ll += sum(columns.ll);
    } else if (line.startsWith('events:')) {
      const names = line.slice(7).trim().split(/\s+/);
      columns = Object.fromEntries(
        Object.entries(EVENTS).map(([key, events]) => [
          key,
          events.map((e) => names.indexOf(e)).filter((i) => i >= 0),
        ]),
      );
    } else if (line.startsWith('fn=')) {
      const fn = line.slice(3);
      const address = /^0x([0-9a-f]+)$/i.exec(fn);
      name = address ? (nameAt(map, Number.parseInt(address[1], 16)) ?? '(unnamed JIT code)') : fn;
    } else if (line.startsWith('calls=')) skipNext = true;
  }
  return costs;
}

/** Where a function comes from, for the per-category totals. */
export function categoryOf(name) {
  if (name.includes('bench/http/peers/')) return 'peer';
  if (name.includes('node_modules/')) return 'dependencies';
  if (/(^|\s)(dist|src)\//.test(name)) return 'keel';
  if (name.endsWith(' (eval)')) return 'eval JS';
  // `emit node:events:517:44`, not C++'s `node::Parser` (`std::_Rb_tree<node::…>, node::…`).
  if (/\snode:(?!:)/.test(name)) return 'node JS';
  if (name.startsWith('Builtins_') || name.startsWith('RegExp:') || name.includes('v8::'))
    return 'V8';
  if (name === '(unnamed JIT code)') return 'V8';
  return 'native';
}

export const CATEGORIES = ['keel', 'peer', 'dependencies', 'eval JS', 'node JS', 'V8', 'native'];

/**
 * Per-request totals by category and the `top` costliest functions (by instructions, and
 * by D1 misses when simulated), from the summed function costs of every window and the
 * requests they served.
 */
export function summarize(costs, requests, top = 15) {
  const categories = Object.fromEntries(CATEGORIES.map((c) => [c, { ir: 0, d1: 0, ll: 0 }]));
  for (const [name, cost] of costs) {
    const total = categories[categoryOf(name)];
    for (const key of Object.keys(total)) total[key] += cost[key] / requests;
  }
  const row = ([name, cost]) => ({
    name,
    category: categoryOf(name),
    ir: cost.ir / requests,
    d1: cost.d1 / requests,
    ll: cost.ll / requests,
  });
  const byIr = [...costs].sort((a, b) => b[1].ir - a[1].ir);
  const simulated = byIr.some(([, cost]) => cost.d1 > 0);
  return {
    simulated,
    categories,
    functions: byIr.slice(0, top).map(row),
    ...(simulated
      ? {
          byD1: [...costs]
            .sort((a, b) => b[1].d1 - a[1].d1)
            .slice(0, top)
            .map(row),
        }
      : {}),
  };
}

/** Add one dump's costs into `total`. */
export function addCosts(total, costs) {
  for (const [name, cost] of costs) {
    const sum = total.get(name);
    if (sum === undefined) total.set(name, { ...cost });
    else for (const key of Object.keys(sum)) sum[key] += cost[key];
  }
  return total;
}
