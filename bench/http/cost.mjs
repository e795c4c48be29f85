#!/usr/bin/env node
// The HTTP cost benchmark: CPU instructions per request for Keel and its peers, counted by
// valgrind's callgrind. Unlike req/s, an instruction count does not move when another
// tenant of a shared machine takes the core, so a 5% difference is visible in one run.
// It does not see cache misses or memory stalls: it complements run.mjs, it does not
// replace it. See bench/README.md.
//
//   node bench/http/cost.mjs                       # every server, every route
//   node bench/http/cost.mjs --servers keel,fastify --routes orders
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliTools } from '../lib/common.mjs';
import {
  addCosts,
  CATEGORIES,
  functionCosts,
  PERF_MAP_FLAGS,
  perfMapPath,
  readPerfMap,
  removePerfMap,
  summarize,
} from './lib/function-costs.mjs';
import { pickLoadGenerator, ROUTES, runLoad } from './lib/load-generator.mjs';
import { machineInfo, median, peerVersions } from './lib/report.mjs';
import { freePort, killAll, startServer, stopServer, waitPortFree } from './lib/server-process.mjs';
import { listPeers, verifyPeer } from './verify.mjs';

const { fail, positiveInt, pickList } = cliTools('bench/http cost');

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ORDER = ['keel', 'fastify', 'express', 'hono', 'nestjs', 'node-http'];

const USAGE = `Usage: node bench/http/cost.mjs [options]

  --requests N       measured requests per route (default 10000)
  --warmup N         unmeasured requests first, so the JIT has settled (default 5000)
  --samples N        measured windows per route; the median is reported (default 3)
  --forks N          processes per server, one after the other (default 1): the same build
                     can settle into states several percent apart (which V8 paths, how big
                     a nursery), so one process is one sample; medians are over every
                     window of every process
  --connections N    concurrent connections (default 50)
  --servers a,b      servers (default: all in peers/)
  --routes a,b       routes (default: ${ROUTES.map((r) => r.id).join(', ')})
  --out DIR          results folder (default bench/http/results)
  --sim              also simulate caches and branch prediction (callgrind --cache-sim and
                     --branch-sim): main-thread misses and mispredictions per request. The
                     caches are set, not detected (a VM reports odd sizes): I1 and D1
                     32 KiB 8-way, the last level 1 MiB 8-way (a Zen core's L2), 64-byte lines
  --functions        name where the main thread's instructions go: per-request totals by
                     origin (Keel, the peer file, dependencies, eval'd JavaScript, Node's
                     JavaScript, V8, native code) and the costliest functions, JavaScript
                     named through the perf map node writes with --perf-basic-prof
  --keep             keep each server's callgrind dumps (one per window) and print their
                     folder, for callgrind_annotate (with --functions, the perf map too)
  --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '10000' },
      warmup: { type: 'string', default: '5000' },
      samples: { type: 'string', default: '3' },
      forks: { type: 'string', default: '1' },
      connections: { type: 'string', default: '50' },
      servers: { type: 'string' },
      routes: { type: 'string' },
      out: { type: 'string', default: `${HERE}results` },
      keep: { type: 'boolean', default: false },
      sim: { type: 'boolean', default: false },
      functions: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const peers = listPeers();
  const present = [
    ...ORDER.filter((n) => peers.includes(n)),
    ...peers.filter((p) => !ORDER.includes(p)),
  ];
  return {
    requests: positiveInt('requests', values.requests),
    warmup: positiveInt('warmup', values.warmup),
    samples: positiveInt('samples', values.samples),
    forks: positiveInt('forks', values.forks),
    connections: positiveInt('connections', values.connections),
    servers: pickList('server', values.servers, present),
    routes: pickList(
      'route',
      values.routes,
      ROUTES.map((r) => r.id),
    ).map((id) => ROUTES.find((r) => r.id === id)),
    out: values.out,
    keep: values.keep,
    sim: values.sim,
    functions: values.functions,
  };
}

function valgrindVersion() {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    fail('valgrind is not installed. Install it with: apt-get install -y valgrind');
  }
}

function callgrind(pid, command) {
  execFileSync('callgrind_control', [command, String(pid)], { stdio: 'ignore' });
}

/** Cache and branch simulation for `--sim`: set sizes, since a VM's CPUID can claim anything. */
const SIM_FLAGS = [
  '--cache-sim=yes',
  '--branch-sim=yes',
  '--I1=32768,8,64',
  '--D1=32768,8,64',
  '--LL=1048576,8,64',
];

/**
 * The simulated events `--sim` reports, each the sum of callgrind's events of that kind:
 * instruction-cache misses, data-cache misses (reads and writes), last-level misses
 * (instruction and data) and mispredicted branches (conditional and indirect).
 */
const SIM_EVENTS = {
  i1: ['I1mr'],
  d1: ['D1mr', 'D1mw'],
  ll: ['ILmr', 'DLmr', 'DLmw'],
  branch: ['Bcm', 'Bim'],
};

/**
 * The newest callgrind dump in `dir`, one file per thread (`callgrind.out.<dump>-<thread>`,
 * from `--separate-threads=yes`): `{ all, main }` instructions, every thread's and the main
 * thread's (thread 01, where the event loop and the JavaScript run), `sim`, the main
 * thread's simulated events (see SIM_EVENTS) when the dump has them, and `mainText`, the
 * main thread's dump itself (for `--functions`). The other threads are
 * V8's GC helpers and compilers: their work is real, but it comes in bursts that can land in
 * one window and not the next, so the main thread's count is the steadier comparison.
 */
function lastDumpInstructions(dir) {
  const files = readdirSync(dir)
    .map((file) => {
      const match = /\.(\d+)-(\d+)$/.exec(file);
      return match ? { file, dump: Number(match[1]), thread: Number(match[2]) } : undefined;
    })
    .filter((entry) => entry !== undefined);
  const dump = Math.max(...files.map((f) => f.dump));
  let all = 0;
  let main = 0;
  let sim;
  let mainText;
  for (const { file, thread } of files.filter((f) => f.dump === dump)) {
    const text = readFileSync(`${dir}/${file}`, 'utf8');
    const summary = /^summary:\s+([\d ]+)$/m.exec(text);
    const events = /^events:\s+(.+)$/m.exec(text);
    if (!summary || !events) throw new Error(`callgrind dump ${file} has no summary line`);
    const counts = summary[1].trim().split(/\s+/).map(Number);
    const names = events[1].trim().split(/\s+/);
    all += counts[0];
    if (thread !== 1) continue;
    main = counts[0];
    mainText = text;
    if (!names.includes('Bcm')) continue;
    const count = (name) => counts[names.indexOf(name)] ?? 0;
    sim = Object.fromEntries(
      Object.entries(SIM_EVENTS).map(([kind, parts]) => [
        kind,
        parts.reduce((sum, name) => sum + count(name), 0),
      ]),
    );
  }
  return { all, main, sim, mainText };
}

/**
 * One process of server `name`: every route, `options.samples` windows each, added to
 * `raw[name][route]` (windows grouped by process, summed function costs) for
 * {@link summarizeRuns}.
 */
async function measureServer(name, options, generator, raw, fork) {
  const dir = mkdtempSync(`${os.tmpdir()}/keel-cost-${name}-`);
  const port = await freePort();
  const server = await startServer(name, {
    port,
    readyTimeoutMs: 180_000,
    wrap: [
      'valgrind',
      '--tool=callgrind',
      `--callgrind-out-file=${dir}/callgrind.out`,
      '--dump-instr=no',
      '--separate-threads=yes',
      '--compress-strings=no',
      ...(options.sim ? SIM_FLAGS : []),
    ],
    nodeFlags: options.functions ? PERF_MAP_FLAGS : [],
  });
  // valgrind runs node in its own process: the server's pid is node's, and its perf map's.
  const pid = server.child.pid;
  try {
    const failures = await verifyPeer(port);
    if (failures.length > 0)
      throw new Error(`${name} answers differently from the peers:\n  ${failures.join('\n  ')}`);
    for (const route of options.routes) {
      const load = { port, connections: options.connections, seconds: 600 };
      await runLoad(generator, route, { ...load, amount: options.warmup });
      raw[name] ??= {};
      raw[name][route.id] ??= { forks: [], costs: new Map(), served: 0 };
      const acc = raw[name][route.id];
      const perRequest = [];
      const mainPerRequest = [];
      const simPerRequest = [];
      acc.forks.push({ perRequest, mainPerRequest, simPerRequest });
      for (let i = 0; i < options.samples; i++) {
        callgrind(server.child.pid, '-z');
        const result = await runLoad(generator, route, { ...load, amount: options.requests });
        callgrind(server.child.pid, '-d');
        if (result.non2xx + result.socketErrors > 0)
          throw new Error(
            `${name} ${route.id}: ${result.non2xx} non-2xx responses, ${result.socketErrors} socket errors or timeouts`,
          );
        const counted = lastDumpInstructions(dir);
        if (options.functions) {
          addCosts(acc.costs, functionCosts(counted.mainText, readPerfMap(perfMapPath(pid))));
          acc.served += result.requests;
        }
        perRequest.push(counted.all / result.requests);
        mainPerRequest.push(counted.main / result.requests);
        if (counted.sim) {
          simPerRequest.push(
            Object.fromEntries(
              Object.entries(counted.sim).map(([kind, n]) => [kind, n / result.requests]),
            ),
          );
        }
      }
      const kilo = (list) => list.map((n) => Math.round(n / 1000)).join(', ');
      const label = options.forks > 1 ? `${route.id} #${fork}` : route.id;
      console.log(
        `  ${name.padEnd(10)} ${label.padEnd(7)} ${Math.round(median(perRequest)).toLocaleString('en-US').padStart(9)} instructions/request` +
          `  (${kilo(perRequest)} k); main thread ${Math.round(median(mainPerRequest)).toLocaleString('en-US')} (${kilo(mainPerRequest)} k)`,
      );
      const sim = simPerRequest.length > 0 ? medianSim(simPerRequest) : undefined;
      if (sim) {
        const round = (kind) => Math.round(sim[kind]).toLocaleString('en-US');
        console.log(
          `  ${''.padEnd(18)} main thread misses/request: I1 ${round('i1')}, D1 ${round('d1')}, LL ${round('ll')}; mispredicted branches ${round('branch')}`,
        );
      }
      if (options.functions) {
        const named = summarize(acc.costs, acc.served);
        const parts = CATEGORIES.map((c) => `${c} ${Math.round(named.categories[c].ir)}`);
        const scope = options.forks > 1 ? ' (processes so far)' : '';
        console.log(`  ${''.padEnd(18)} main thread by origin${scope}: ${parts.join(', ')}`);
      }
    }
  } finally {
    await stopServer(server.child);
    await waitPortFree(port);
    // With --keep the perf map stays (in /tmp, its path printed): it names the kept dumps' JIT code.
    if (options.functions && !options.keep) removePerfMap(pid);
    if (options.keep) {
      const map = options.functions ? `, JIT names in ${perfMapPath(pid)}` : '';
      console.log(`  ${name} callgrind dumps kept in ${dir} (process ${fork})${map}`);
    } else rmSync(dir, { recursive: true, force: true });
  }
}

/** The median of each simulated event over windows. */
function medianSim(windows) {
  return Object.fromEntries(
    Object.keys(SIM_EVENTS).map((kind) => [kind, median(windows.map((w) => w[kind]))]),
  );
}

/**
 * Per server and route: medians over every window of every process, the windows grouped by
 * process (`forkSamples`, `forkMainSamples`), and the summed function costs.
 */
function summarizeRuns(raw) {
  const results = {};
  for (const [name, routes] of Object.entries(raw)) {
    results[name] = {};
    for (const [route, acc] of Object.entries(routes)) {
      const all = acc.forks.flatMap((f) => f.perRequest);
      const main = acc.forks.flatMap((f) => f.mainPerRequest);
      const sim = acc.forks.flatMap((f) => f.simPerRequest);
      results[name][route] = {
        samples: all,
        median: median(all),
        mainSamples: main,
        mainMedian: median(main),
        forkSamples: acc.forks.map((f) => f.perRequest),
        forkMainSamples: acc.forks.map((f) => f.mainPerRequest),
        ...(sim.length > 0 ? { sim: medianSim(sim) } : {}),
        ...(acc.served > 0 ? { functions: summarize(acc.costs, acc.served) } : {}),
      };
    }
  }
  return results;
}

function toMarkdown({ meta, results, options }) {
  const k = (n) => `${(n / 1000).toFixed(1)}k`;
  const windows = (forks) => forks.map((list) => list.map(k).join(', ')).join(' / ');
  const lines = [`# HTTP cost — ${meta.date}`, ''];
  lines.push(
    `Instructions per request counted by ${meta.valgrind} (callgrind) over ${options.requests.toLocaleString('en-US')} requests ` +
      `after ${options.warmup.toLocaleString('en-US')} unmeasured ones, ${options.connections} connections (autocannon), ` +
      `median of ${options.samples} window${options.samples > 1 ? 's' : ''}${options.forks > 1 ? ` in each of ${options.forks} processes per server (the windows of one process between slashes)` : ''}. All threads: every thread of the server (V8's GC helpers and compilers included); ` +
      `main thread: the event loop's, where the JavaScript runs, steadier from window to window because background ` +
      `GC and compilation come in bursts. ÷ Keel = the server's instructions ÷ Keel's: above 1 means Keel does less work per request.`,
    '',
    `Machine: ${meta.machine.cpu}, Node ${meta.machine.node}. Versions: ${Object.entries(
      meta.versions,
    )
      .map(([n, v]) => `${n} ${v}`)
      .join('; ')}.`,
    '',
  );
  for (const route of options.routes) {
    lines.push(
      `## ${route.label}`,
      '',
      '| server | all threads | windows | ÷ Keel | main thread | windows | ÷ Keel |',
      '|---|---:|---|---:|---:|---|---:|',
    );
    const keel = results.keel?.[route.id]?.median;
    const keelMain = results.keel?.[route.id]?.mainMedian;
    const rows = options.servers
      .filter((s) => results[s]?.[route.id])
      .map((s) => ({ s, ...results[s][route.id] }))
      .sort((a, b) => a.median - b.median);
    for (const row of rows) {
      lines.push(
        `| ${row.s === 'keel' ? '**keel**' : row.s} | ${k(row.median)} | ${windows(row.forkSamples)} | ${keel ? (row.median / keel).toFixed(2) : 'n/a'} ` +
          `| ${k(row.mainMedian)} | ${windows(row.forkMainSamples)} | ${keelMain ? (row.mainMedian / keelMain).toFixed(2) : 'n/a'} |`,
      );
    }
    lines.push('');
    if (rows.some((row) => row.sim)) lines.push(...simTable(rows, results.keel?.[route.id]?.sim));
    if (rows.some((row) => row.functions)) lines.push(...functionTables(rows));
  }
  return lines.join('\n');
}

/** The `--sim` table: the main thread's simulated misses per request, each ÷ Keel's. */
function simTable(rows, keel) {
  const cell = (row, kind) => {
    const value = row.sim[kind];
    const ratio = keel?.[kind] ? ` (${(value / keel[kind]).toFixed(2)})` : '';
    return `${Math.round(value).toLocaleString('en-US')}${ratio}`;
  };
  const lines = [
    'Simulated on the main thread, per request (median of the windows; ÷ Keel in brackets): ' +
      "I1 and D1 misses (32 KiB, 8-way), last-level misses (1 MiB, 8-way: a Zen core's L2), " +
      'mispredicted branches (conditional and indirect).',
    '',
    '| server | I1 misses | D1 misses | LL misses | branch mispredictions |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of rows.filter((r) => r.sim)) {
    lines.push(
      `| ${row.s === 'keel' ? '**keel**' : row.s} | ${cell(row, 'i1')} | ${cell(row, 'd1')} | ${cell(row, 'll')} | ${cell(row, 'branch')} |`,
    );
  }
  lines.push('');
  return lines;
}

/**
 * The `--functions` tables: the main thread's instructions (and, with `--sim`, D1 misses) per
 * request by origin for every server, then each server's costliest functions.
 */
function functionTables(rows) {
  const named = rows.filter((r) => r.functions);
  const simulated = named.some((r) => r.functions.simulated);
  const n = (value) => Math.round(value).toLocaleString('en-US');
  const cell = (cost) => (simulated ? `${n(cost.ir)} / ${n(cost.d1)}` : n(cost.ir));
  const lines = [
    `Main thread ${simulated ? 'instructions / D1 misses' : 'instructions'} per request by origin ` +
      "(self cost, summed over the windows): Keel's own code, the peer's file, its dependencies, " +
      'JavaScript without a file (`new Function`, `eval`: Zod compiles object schemas so), ' +
      "Node's JavaScript, V8 (builtins, regular expressions, runtime and GC) and native code " +
      '(Node, llhttp, libuv, libc).',
    '',
    `| server | ${CATEGORIES.join(' | ')} |`,
    `|---|${CATEGORIES.map(() => '---:').join('|')}|`,
  ];
  for (const row of named) {
    const cells = CATEGORIES.map((c) => cell(row.functions.categories[c]));
    lines.push(`| ${row.s === 'keel' ? '**keel**' : row.s} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const table = (title, list) => {
    lines.push(
      title,
      '',
      `| instructions |${simulated ? ' D1 misses | LL misses |' : ''} origin | function |`,
      `|---:|${simulated ? '---:|---:|' : ''}---|---|`,
    );
    for (const fn of list) {
      const name = fn.name.replaceAll('|', '\\|').replaceAll('`', "'").slice(0, 120);
      const misses = simulated ? ` ${n(fn.d1)} | ${n(fn.ll)} |` : '';
      lines.push(`| ${n(fn.ir)} |${misses} ${fn.category} | \`${name}\` |`);
    }
    lines.push('');
  };
  for (const row of named) {
    table(`Costliest functions, ${row.s} (per request, self cost):`, row.functions.functions);
    if (row.functions.byD1) {
      table(`Most D1 misses, ${row.s} (per request, self cost):`, row.functions.byD1);
    }
  }
  return lines;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const valgrind = valgrindVersion();
  let generator;
  try {
    generator = pickLoadGenerator('autocannon');
  } catch (error) {
    fail(error.message);
  }
  const started = new Date();
  console.log(
    `· ${options.servers.join(', ')} × ${options.routes.map((r) => r.id).join(', ')}` +
      `${options.forks > 1 ? ` × ${options.forks} processes` : ''} under ${valgrind}; ` +
      'about a minute per process and route',
  );
  const raw = {};
  for (const name of options.servers) {
    for (let fork = 1; fork <= options.forks; fork++) {
      await measureServer(name, options, generator, raw, fork);
    }
  }
  const results = summarizeRuns(raw);
  const meta = {
    date: started.toISOString(),
    valgrind,
    machine: machineInfo(),
    versions: peerVersions(options.servers),
  };
  const markdown = toMarkdown({ meta, results, options });
  mkdirSync(options.out, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace(':', '').replace('T', '_');
  writeFileSync(`${options.out}/cost-${stamp}.md`, markdown);
  writeFileSync(`${options.out}/cost-latest.md`, markdown);
  writeFileSync(
    `${options.out}/cost-latest.json`,
    `${JSON.stringify({ meta, options: { ...options, routes: options.routes.map((r) => r.id) }, results }, null, 2)}\n`,
  );
  console.log(`\n${markdown}`);
  console.log(`· written ${options.out}/cost-${stamp}.md and cost-latest.{md,json}`);
}

process.on('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll('SIGKILL');
    process.exit(130);
  });
}

main().catch((error) => {
  console.error(`\nbench/http cost: ${error.message}`);
  killAll('SIGKILL');
  process.exit(1);
});
