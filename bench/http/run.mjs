#!/usr/bin/env node
// The HTTP benchmark: Keel against Fastify, Express, Hono, NestJS and raw node:http on the
// same machine in the same run. Every server stays up; per route, short rounds rotate through
// them (A,B,C, B,C,A, …) so drift of the machine lands on everyone alike; the servers are
// pinned to one core and the load generator to the other. See bench/README.md for the method.
//
//   node bench/http/run.mjs --rounds 10 --duration 3
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliTools, ensureDependencies } from '../lib/common.mjs';
import { keelDistState, ROOT, STALE_DIST_WARNING } from './lib/keel-dist.mjs';
import { pickLoadGenerator, ROUTES, runLoad } from './lib/load-generator.mjs';
import { machineInfo, peerVersions, pickBaseline, summarise, toMarkdown } from './lib/report.mjs';
import {
  cpuSeconds,
  freePort,
  killAll,
  startServer,
  stopServer,
  waitPortFree,
} from './lib/server-process.mjs';
import { listPeers, verifyPeer } from './verify.mjs';

const { fail, positiveInt, pickList } = cliTools('bench/http');

const HERE = fileURLToPath(new URL('./', import.meta.url));
/** Keel first, then the peers; rounds keep this order. */
const ORDER = ['keel', 'keel-observed', 'fastify', 'express', 'hono', 'nestjs', 'node-http'];

const USAGE = `Usage: node bench/http/run.mjs [options]

  --rounds N         alternating rounds per route (default 10)
  --forks N          fresh processes per server (default 1): every server is started N
                     times, each time for all routes and rounds; see bench/README.md
  --duration S       measured seconds per server per round (default 3)
  --warmup S         unmeasured warm-up seconds per server before a route's rounds (default 2)
  --rewarm S         also S unmeasured seconds before every measured run (default 0). A
                     server idles while the others are measured (about 40 s per round
                     with seven servers, 10 s with three); this measures it warm again
  --connections N    concurrent connections (default 50)
  --servers a,b      servers to run (default: all in peers/: ${ORDER.join(', ')})
  --routes a,b       routes to run (default: ${ROUTES.map((r) => r.id).join(', ')})
  --tool T           wrk or autocannon (default: wrk when installed, else autocannon)
  --build            run \`npm run build\` at the repo root first (for Keel)
  --no-pin           do not pin with taskset
  --server-cpu N     CPU for the server (default 0)
  --load-cpu N       CPU for the load generator (default 1)
  --out DIR          results folder (default bench/http/results)
  --node-flags=F     extra node/V8 flags for every server, e.g. --node-flags="--trace-gc
                     --trace-deopt"; the = is needed, as the value starts with a dash.
                     For flags NODE_OPTIONS refuses.
  --server-logs DIR  write each server's stdout and stderr to DIR/<server>.log, or
                     DIR/<server>.<fork>.log with --forks (the harness otherwise discards
                     them); pair with --node-flags to keep traces
  --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '10' },
      forks: { type: 'string', default: '1' },
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      rewarm: { type: 'string', default: '0' },
      connections: { type: 'string', default: '50' },
      servers: { type: 'string' },
      routes: { type: 'string' },
      tool: { type: 'string' },
      build: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'server-cpu': { type: 'string', default: '0' },
      'load-cpu': { type: 'string', default: '1' },
      out: { type: 'string', default: `${HERE}results` },
      'node-flags': { type: 'string', default: '' },
      'server-logs': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.tool !== undefined && !['wrk', 'autocannon'].includes(values.tool)) {
    fail(`--tool must be wrk or autocannon, got "${values.tool}"`);
  }
  // Known peers in their usual order, then any other peers/<name>.mjs dropped in.
  const peers = listPeers();
  const present = [
    ...ORDER.filter((name) => peers.includes(name)),
    ...peers.filter((p) => !ORDER.includes(p)),
  ];
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0)
    fail(`--warmup must be 0 or more seconds, got "${values.warmup}"`);
  const rewarm = Number(values.rewarm);
  if (!Number.isInteger(rewarm) || rewarm < 0)
    fail(`--rewarm must be 0 or more seconds, got "${values.rewarm}"`);
  return {
    rounds: positiveInt('rounds', values.rounds),
    forks: positiveInt('forks', values.forks),
    duration: positiveInt('duration', values.duration),
    warmup,
    rewarm,
    connections: positiveInt('connections', values.connections),
    servers: pickList('server', values.servers, present),
    routes: pickList(
      'route',
      values.routes,
      ROUTES.map((r) => r.id),
    ).map((id) => ROUTES.find((r) => r.id === id)),
    tool: values.tool,
    build: values.build,
    pin: !values['no-pin'],
    serverCpu: Number(values['server-cpu']),
    loadCpu: Number(values['load-cpu']),
    out: values.out,
    nodeFlags: values['node-flags'].split(/\s+/).filter(Boolean),
    serverLogs: values['server-logs'],
  };
}

/** bench/http has its own dependencies; install them from the lock file when missing. */
/** Keel runs from dist/: build it on --build, skip it with a reason when it is absent. */
function prepareKeel(options, skipped) {
  if (!options.servers.includes('keel')) return;
  if (options.build) {
    console.log('· building Keel (npm run build)');
    const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) fail('npm run build failed');
  }
  const state = keelDistState();
  if (state === 'missing') {
    const reason =
      'keel (dist/http/index.js missing: run `npm run build` at the repo root, or pass --build)';
    console.log(`! skipping ${reason}`);
    skipped.push(reason);
    options.servers = options.servers.filter((s) => s !== 'keel');
    return;
  }
  if (state === 'stale') console.log(`${STALE_DIST_WARNING} (or pass --build)`);
}

function canPin(options) {
  if (!options.pin) return false;
  const hasTaskset = spawnSync('which', ['taskset']).status === 0;
  const cpus = os.cpus().length;
  if (!hasTaskset || cpus < 2 || Math.max(options.serverCpu, options.loadCpu) >= cpus) {
    console.log(
      `! not pinning: ${hasTaskset ? `${cpus} CPU(s) available` : 'taskset not found (util-linux)'}`,
    );
    return false;
  }
  return true;
}

function formatSeconds(seconds) {
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** `list` started `by` places later, wrapping round: rotate([a, b, c], 1) is [b, c, a]. */
function rotate(list, by) {
  const shift = by % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function stamp(date) {
  return date.toISOString().slice(0, 16).replace(':', '').replace('T', '_');
}

/**
 * Start every server in `names` order, pinned to the server core, each checked before it is
 * measured. With --forks, fork N's logs go to `<server>.<N>.log`.
 */
async function startAll(options, names, fork) {
  const cpu = options.pinned ? options.serverCpu : undefined;
  if (options.serverLogs) mkdirSync(options.serverLogs, { recursive: true });
  const servers = [];
  for (const name of names) {
    const port = await freePort();
    const log = options.forks > 1 ? `${name}.${fork}.log` : `${name}.log`;
    const server = await startServer(name, {
      port,
      cpu,
      nodeFlags: options.nodeFlags,
      logFile: options.serverLogs && `${options.serverLogs}/${log}`,
    });
    servers.push(server);
    const failures = await verifyPeer(port);
    if (failures.length > 0) {
      throw new Error(
        `${name} answers differently from the other peers:\n  ${failures.join('\n  ')}`,
      );
    }
  }
  return servers;
}

async function stopAll(servers) {
  for (const server of servers) {
    await stopServer(server.child);
    await waitPortFree(server.port);
  }
}

/**
 * One measured (or warm-up) run of `route` against `server`, with its CPU cost per request
 * and the CPU the other, idle servers used meanwhile (`peersCpuMs`): their timers and
 * garbage collections run on the same core and take it from the measured server.
 */
async function measure(server, route, options, generator, seconds, servers) {
  const load = {
    port: server.port,
    connections: options.connections,
    cpu: options.pinned ? options.loadCpu : undefined,
    seconds,
  };
  const before = servers.map((s) => cpuSeconds(s.child.pid));
  const result = await runLoad(generator, route, load);
  const after = servers.map((s) => cpuSeconds(s.child.pid));
  let peers = 0;
  for (let i = 0; i < servers.length; i++) {
    if (before[i] === undefined || after[i] === undefined) continue;
    if (servers[i] === server) {
      if (result.requests > 0) result.cpuUs = ((after[i] - before[i]) * 1e6) / result.requests;
    } else {
      peers += after[i] - before[i];
    }
  }
  result.peersCpuMs = Math.round(peers * 10_000) / 10;
  return result;
}

/**
 * Per route: warm every server up, then `rounds` rounds in which each server is loaded for
 * `duration` seconds, the order rotated every round so no server always goes first. Servers
 * stay up between rounds (idle ones use no CPU), so a round lasts seconds, not minutes, and
 * the ratios compare runs a few seconds apart: drift of a shared machine cancels out.
 * Rounds are numbered across forks (fork 2's first round follows fork 1's last), so a
 * ratio always pairs two servers' runs of the same round.
 */
async function measureRoute(route, servers, options, generator, samples, fork) {
  if (options.warmup > 0) {
    for (const server of servers) {
      await measure(server, route, options, generator, options.warmup, servers);
    }
  }
  for (let r = 1; r <= options.rounds; r++) {
    const round = (fork - 1) * options.rounds + r;
    for (const server of rotate(servers, r - 1)) {
      if (options.rewarm > 0) {
        await measure(server, route, options, generator, options.rewarm, servers);
      }
      const result = await measure(server, route, options, generator, options.duration, servers);
      samples[server.name] ??= {};
      samples[server.name][route.id] ??= [];
      samples[server.name][route.id].push({ fork, round, ...result });
      const errors = result.non2xx + result.socketErrors;
      console.log(
        `  ${String(round).padStart(2)} ${server.name.padEnd(10)} ${route.id.padEnd(7)} ${Math.round(result.rps).toLocaleString('en-US').padStart(8)} req/s` +
          `  p99 ${result.p99.toFixed(2).padStart(7)} ms` +
          (result.cpuUs === undefined
            ? ''
            : `  cpu ${result.cpuUs.toFixed(1).padStart(6)} µs/req`) +
          (result.peersCpuMs > 0 ? `  peers ${Math.round(result.peersCpuMs)} ms` : '') +
          `${errors ? `  ! ${errors} errors` : ''}`,
      );
    }
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const skipped = [];
  ensureDependencies(HERE, 'bench/http', fail);
  prepareKeel(options, skipped);
  if (options.servers.length === 0) fail('no server to measure');
  let generator;
  try {
    generator = pickLoadGenerator(options.tool);
  } catch (error) {
    fail(error.message);
  }
  options.pinned = canPin(options);

  const seconds =
    options.forks *
    options.servers.length *
    options.routes.length *
    (options.warmup + options.rounds * (options.rewarm + options.duration));
  const forks = options.forks > 1 ? ` in each of ${options.forks} forks` : '';
  console.log(
    `· ${options.servers.join(', ')} × ${options.routes.map((r) => r.id).join(', ')}; ${options.rounds} round(s)${forks}, ` +
      `${generator.version}; about ${formatSeconds(seconds)}`,
  );

  // Anything else busy on these cores skews every number; say so in the report.
  const loadBefore = os.loadavg()[0];
  if (loadBefore > 0.5) {
    console.log(
      `! load average is ${loadBefore.toFixed(2)} before starting: other work shares these cores`,
    );
  }
  const started = new Date();
  const samples = {};
  for (let fork = 1; fork <= options.forks; fork++) {
    // Each fork starts the servers afresh, in an order rotated per fork, and runs the rounds
    // in the reverse direction on even forks: no server always starts first or always
    // follows the same peer.
    const names = rotate(options.servers, fork - 1);
    if (options.forks > 1) console.log(`fork ${fork} of ${options.forks}: ${names.join(', ')}`);
    const up = await startAll(options, names, fork);
    const servers = fork % 2 === 0 ? up.reverse() : up;
    try {
      for (const route of options.routes) {
        console.log(`${route.id}: ${options.rounds} round(s)`);
        await measureRoute(route, servers, options, generator, samples, fork);
      }
    } finally {
      await stopAll(servers);
    }
  }

  const baseline = pickBaseline(options.servers);
  const meta = {
    date: started.toISOString(),
    rounds: options.rounds,
    forks: options.forks,
    duration: options.duration,
    warmup: options.warmup,
    ...(options.rewarm > 0 ? { rewarm: options.rewarm } : {}),
    connections: options.connections,
    loadGenerator: generator.version,
    pinned: options.pinned,
    serverCpu: options.serverCpu,
    loadCpu: options.loadCpu,
    machine: machineInfo(),
    loadBefore,
    versions: peerVersions(options.servers),
    skipped,
    order: options.servers,
    nodeFlags: options.nodeFlags,
  };
  const summary = summarise(samples, options.servers, options.routes, baseline);
  const markdown = toMarkdown({ meta, summary, routes: options.routes, baseline });
  const raw = `${JSON.stringify({ meta, baseline, summary, samples }, null, 2)}\n`;

  mkdirSync(options.out, { recursive: true });
  // Two runs started in the same minute must not overwrite each other: the second gets -2.
  let base = `${options.out}/${stamp(started)}`;
  for (let n = 2; existsSync(`${base}.json`); n++) base = `${options.out}/${stamp(started)}-${n}`;
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.json`, raw);
  writeFileSync(`${options.out}/latest.md`, markdown);
  writeFileSync(`${options.out}/latest.json`, raw);
  console.log(`\n${markdown}`);
  console.log(`· written ${base}.md, ${base}.json and latest.{md,json}`);
}

// Never leave a server or a load generator running behind us.
process.on('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll('SIGKILL');
    process.exit(130);
  });
}

main().catch((error) => {
  console.error(`\nbench/http: ${error.message}`);
  killAll('SIGKILL');
  process.exit(1);
});
