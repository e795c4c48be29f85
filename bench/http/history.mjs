#!/usr/bin/env node
// The traffic-history benchmark: does what a server served before make one route dearer?
// For each server it starts processes in pairs on the server core; one of each pair first
// serves the given history (e.g. 40 s of GET /hello), the other starts fresh. Then every
// process serves the measured route in short runs, round after round, and the CPU each
// spends per request (user + system, all threads, from /proc) is compared.
//
//   node bench/http/history.mjs                                  # keel and fastify, 40 s of /hello first
//   node bench/http/history.mjs --history hello:25,users:25 --pairs 2
//   node bench/http/history.mjs --history hello:5x4,users:5x4 --idle 35   # the published run's pattern
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliTools, ensureDependencies } from '../lib/common.mjs';
import { keelDistState, STALE_DIST_WARNING } from './lib/keel-dist.mjs';
import { pickLoadGenerator, ROUTES, runLoad } from './lib/load-generator.mjs';
import { median } from './lib/report.mjs';
import {
  cpuSeconds,
  freePort,
  killAll,
  startServer,
  stopServer,
  waitPortFree,
} from './lib/server-process.mjs';
import { listPeers } from './verify.mjs';

const { fail, positiveInt, pickList } = cliTools('bench/http history');
const HERE = fileURLToPath(new URL('./', import.meta.url));

const USAGE = `Usage: node bench/http/history.mjs [options]

  --servers a,b      servers (default: keel,fastify)
  --history r:S,...  what the "history" processes serve first, in order: route id and
                     seconds, or r:SxN for N windows of S seconds (default hello:40)
  --idle S           seconds every server idles after each history window (default 0).
                     Each window runs against every history process in turn, so a
                     process also idles while the others are served
  --route R          the measured route (default orders)
  --pairs N          history/fresh process pairs per server (default 1)
  --rounds N         measured runs per process (default 6)
  --duration S       seconds per measured run (default 5)
  --connections N    concurrent connections (default 50)
  --server-cpu N     CPU for the servers (default 0)
  --load-cpu N       CPU for the load generator (default 1)
  --node-flags=F     extra node/V8 flags for every server (the = is needed)
  --help

Prints, per process, the CPU µs per request of every measured run and their median, then
history ÷ fresh per server. Every process stays up for the whole run, idle while another is
measured, as in run.mjs.`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      servers: { type: 'string', default: 'keel,fastify' },
      history: { type: 'string', default: 'hello:40' },
      idle: { type: 'string', default: '0' },
      route: { type: 'string', default: 'orders' },
      pairs: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '6' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      'server-cpu': { type: 'string', default: '0' },
      'load-cpu': { type: 'string', default: '1' },
      'node-flags': { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const routeIds = ROUTES.map((r) => r.id);
  // `hello:5x4` is four windows of 5 s: the pattern of run.mjs, where a route's rounds are
  // separated by the other servers' runs.
  const history = values.history.split(',').flatMap((entry) => {
    const [id, spec = ''] = entry.split(':');
    if (!routeIds.includes(id)) fail(`unknown route "${id}" in --history; known: ${routeIds}`);
    const [seconds, times = '1'] = spec.split('x');
    const window = {
      route: ROUTES.find((r) => r.id === id),
      seconds: positiveInt('history', seconds),
    };
    return Array.from({ length: positiveInt('history', times) }, () => window);
  });
  const idle = Number(values.idle);
  if (!Number.isFinite(idle) || idle < 0)
    fail(`--idle must be a number of seconds ≥ 0, got "${values.idle}"`);
  const [routeId] = pickList('route', values.route, routeIds);
  return {
    servers: pickList('server', values.servers, listPeers()),
    history,
    idle,
    route: ROUTES.find((r) => r.id === routeId),
    pairs: positiveInt('pairs', values.pairs),
    rounds: positiveInt('rounds', values.rounds),
    duration: positiveInt('duration', values.duration),
    connections: positiveInt('connections', values.connections),
    serverCpu: Number(values['server-cpu']),
    loadCpu: Number(values['load-cpu']),
    nodeFlags: values['node-flags'].split(/\s+/).filter(Boolean),
  };
}

/** CPU µs per request of one measured run of `route` against `proc`. */
async function measure(generator, proc, route, options) {
  const before = cpuSeconds(proc.pid);
  const result = await runLoad(generator, route, {
    port: proc.port,
    connections: options.connections,
    seconds: options.duration,
    cpu: options.loadCpu,
  });
  const after = cpuSeconds(proc.pid);
  if (before === undefined || after === undefined) fail('/proc/<pid>/stat is not readable');
  if (result.requests === 0) fail(`${proc.server} answered no request`);
  return ((after - before) * 1e6) / result.requests;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  ensureDependencies(HERE, 'bench/http', fail);
  if (options.servers.some((s) => s.startsWith('keel'))) {
    const state = keelDistState();
    if (state === 'missing')
      fail('dist/http/index.js is missing: run `npm run build` at the repo root');
    if (state === 'stale') console.log(STALE_DIST_WARNING);
  }
  process.once('SIGINT', () => {
    killAll();
    process.exit(130);
  });
  const generator = pickLoadGenerator();
  const procs = [];
  for (const server of options.servers) {
    for (let i = 0; i < options.pairs * 2; i++) {
      const port = await freePort();
      const { child } = await startServer(server, {
        port,
        cpu: options.serverCpu,
        nodeFlags: options.nodeFlags,
      });
      // taskset execs node, so the child's pid is the server's.
      procs.push({ server, port, child, pid: child.pid, history: i % 2 === 0, costs: [] });
    }
  }
  const history = options.history.map((h) => `${h.seconds} s of ${h.route.id}`).join(', ');
  const idle = options.idle > 0 ? `, ${options.idle} s idle after each` : '';
  console.log(
    `· history: ${history}${idle}; then ${options.rounds} × ${options.duration} s of ${options.route.label}`,
  );
  for (const { route, seconds } of options.history) {
    for (const proc of procs.filter((p) => p.history)) {
      await runLoad(generator, route, {
        port: proc.port,
        connections: options.connections,
        seconds,
        cpu: options.loadCpu,
      });
    }
    if (options.idle > 0) await sleep(options.idle * 1000);
  }
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order, so no process always runs right after the same neighbour.
    const order = round % 2 === 0 ? procs : [...procs].reverse();
    for (const proc of order)
      proc.costs.push(await measure(generator, proc, options.route, options));
  }
  for (const proc of procs) {
    await stopServer(proc.child);
    await waitPortFree(proc.port);
  }
  console.log('\n| server | case | CPU µs/req per run | median |\n|---|---|---|---:|');
  for (const proc of procs) {
    const runs = proc.costs.map((c) => c.toFixed(1)).join(' / ');
    const kind = proc.history ? 'history' : 'fresh';
    console.log(`| ${proc.server} | ${kind} | ${runs} | ${median(proc.costs).toFixed(1)} |`);
  }
  console.log('');
  for (const server of options.servers) {
    const of = (history) =>
      median(
        procs.filter((p) => p.server === server && p.history === history).flatMap((p) => p.costs),
      );
    const [withHistory, fresh] = [of(true), of(false)];
    console.log(
      `${server}: history ÷ fresh ${(withHistory / fresh).toFixed(2)} (${withHistory.toFixed(1)} / ${fresh.toFixed(1)} µs)`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  killAll();
  process.exit(1);
});
