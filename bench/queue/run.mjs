#!/usr/bin/env node
// The queue benchmark: Keel's queue on SQLite, PostgreSQL and Redis against BullMQ,
// graphile-worker and pg-boss used directly, same run. Per peer and round: enqueue 10,000
// no-op jobs in batches (enqueue rate), process them with one worker process pinned to a
// core at concurrency 25 (throughput, first handler start to last recorded completion),
// then, with that worker idle, enqueue jobs one at a time from another process and measure
// enqueue → handler start (p50, p99). Rounds alternate the peers' order; see bench/README.md.
//
//   node bench/queue/run.mjs                        5 rounds of every peer (~4 min)
//   node bench/queue/run.mjs --rounds 1 --jobs 2000 --peers keel-sqlite,bullmq
//   node bench/queue/run.mjs --build                rebuild dist/ first
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildKeel, cliTools, ensureDependencies, newestMtime, reachable } from '../lib/common.mjs';
import { checkGoals, fmt, summarise, toMarkdown, versions } from './lib/report.mjs';
import { pgServer, teardownHelpers } from './lib/services.mjs';

const { fail, positiveInt } = cliTools('bench/queue');

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every peer: its module in peers/, the service it needs, and its Keel driver. */
const PEERS = {
  'keel-sqlite': { module: 'keel', service: 'sqlite', driver: 'sqlite' },
  'keel-postgres': { module: 'keel', service: 'postgres', driver: 'postgres' },
  'keel-redis': { module: 'keel', service: 'redis', driver: 'redis' },
  bullmq: { module: 'bullmq', service: 'redis' },
  'graphile-worker': { module: 'graphile-worker', service: 'postgres' },
  'pg-boss': { module: 'pg-boss', service: 'postgres' },
};

const USAGE = `Usage: node bench/queue/run.mjs [options]

  --rounds N          alternating rounds (default 5, at least 5 for published numbers)
  --jobs N            no-op jobs enqueued then processed per peer per round (default 10000)
  --batch N           jobs per enqueue batch (default 1000)
  --concurrency N     worker concurrency (default 25)
  --latency-jobs N    jobs enqueued one at a time for the latency phase (default 500)
  --spacing MS        pause between two latency jobs (default 5)
  --pgboss-batch N    pg-boss fetch batch size (default 1000; see README)
  --keel-sleep MS     Keel worker's idle poll (default: Keel's own, 1 s; only SQLite relies on it)
  --peers a,b         peers (default: ${Object.keys(PEERS).join(', ')})
  --redis-url URL     Redis server (default redis://127.0.0.1:6379)
  --pg-url URL        PostgreSQL database (default postgres://postgres@127.0.0.1:5432/test)
  --build             run \`npm run build\` at the repo root first (Keel runs from dist/)
  --no-pin            do not pin with taskset
  --worker-cpu N      CPU of the worker process (default 1; services and producers get the other)
  --out DIR           results folder (default bench/queue/results)
  --profile DIR       write a CPU profile of each worker process there (node --cpu-prof)
  --help`;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '25' },
    'latency-jobs': { type: 'string', default: '500' },
    spacing: { type: 'string', default: '5' },
    'pgboss-batch': { type: 'string', default: '1000' },
    'keel-sleep': { type: 'string' },
    peers: { type: 'string' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    build: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'worker-cpu': { type: 'string', default: '1' },
    out: { type: 'string', default: join(HERE, 'results') },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const wantedPeers = values.peers
  ? values.peers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : Object.keys(PEERS);
for (const p of wantedPeers)
  if (!PEERS[p]) fail(`unknown peer "${p}"; known: ${Object.keys(PEERS).join(', ')}`);
const workerCpu = Number(values['worker-cpu']);
if (!Number.isInteger(workerCpu) || workerCpu < 0) fail('--worker-cpu must be a CPU number');
const options = {
  rounds: positiveInt('rounds', values.rounds),
  jobs: positiveInt('jobs', values.jobs),
  batch: positiveInt('batch', values.batch),
  concurrency: positiveInt('concurrency', values.concurrency),
  latencyJobs: positiveInt('latency-jobs', values['latency-jobs']),
  spacingMs: positiveInt('spacing', values.spacing),
  pgBossBatch: positiveInt('pgboss-batch', values['pgboss-batch']),
  keelSleepMs:
    values['keel-sleep'] === undefined
      ? undefined
      : positiveInt('keel-sleep', values['keel-sleep']),
  peers: wantedPeers,
  redisUrl: values['redis-url'],
  pgUrl: values['pg-url'],
  build: values.build,
  workerCpu,
  out: values.out,
  profile: values.profile,
};
const otherCpu = workerCpu === 0 ? 1 : 0;
const hasTaskset = spawnSync('which', ['taskset']).status === 0;
const pin = !values['no-pin'] && hasTaskset && os.cpus().length >= 2;
if (!values['no-pin'] && !pin)
  console.log(
    `! not pinning: ${hasTaskset ? `only ${os.cpus().length} CPU(s)` : 'taskset not found'}`,
  );

function prepareKeel() {
  if (!options.peers.some((p) => p.startsWith('keel'))) return;
  buildKeel({ build: options.build, subsystem: 'queue', needed: 'dist/queue/index.js', fail });
}

/** Cleaning up what a peer left: its schema or its Redis keys. Runs in this process. */
const helpers = teardownHelpers({ pgUrl: options.pgUrl, redisUrl: options.redisUrl });

const children = new Set();

/**
 * Run `lib/child.mjs <step> <module>` (pinned to `cpu`), feed its stdout lines to `onLine`,
 * resolve with the tagged values it printed once it exits 0.
 */
function runChild(step, peer, ctx, cpu, onLine) {
  const prof =
    step === 'work' && options.profile
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          options.profile,
          '--cpu-prof-name',
          `${peer}-${ctx.schema}.cpuprofile`,
        ]
      : [];
  const args = [...prof, join(HERE, 'lib/child.mjs'), step, PEERS[peer].module];
  const [cmd, argv] = pin
    ? ['taskset', ['-c', String(cpu), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(cmd, argv, {
    cwd: HERE,
    env: { ...process.env, KEEL_QUEUE_BENCH_CTX: JSON.stringify(ctx), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const tagged = {};
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const space = line.indexOf(' ');
      const tag = space < 0 ? line : line.slice(0, space);
      if (/^[A-Z]+$/.test(tag)) tagged[tag] = space < 0 ? true : JSON.parse(line.slice(space + 1));
      else if (line.trim()) console.log(`    ${peer} ${step}: ${line}`);
      onLine?.(tag);
      nl = buffer.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const watchdog = setTimeout(() => child.kill('SIGKILL'), ctx.timeoutMs + 5000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      clearTimeout(watchdog);
      children.delete(child);
      if (code === 0) resolve(tagged);
      else
        reject(new Error(`${peer} ${step} exited with ${signal ?? code}\n${stderr.slice(-3000)}`));
    });
  });
}

function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}

/** One round of one peer: setup, enqueue, process, latency, teardown. */
async function measurePeer(peer, runId) {
  const spec = PEERS[peer];
  const id = `${runId}_${peer.replace(/-/g, '_')}`;
  const sqliteDir =
    spec.driver === 'sqlite' ? mkdtempSync(join(os.tmpdir(), 'keel-bench-queue-')) : undefined;
  const ctx = {
    driver: spec.driver,
    pg: pgServer(options.pgUrl),
    schema: `kqb_${id}`,
    redisUrl: options.redisUrl,
    prefix: `kqb:${id}`,
    sqliteFile: sqliteDir ? join(sqliteDir, 'queue.sqlite') : undefined,
    jobs: options.jobs,
    batch: options.batch,
    concurrency: options.concurrency,
    latencyJobs: options.latencyJobs,
    spacingMs: options.spacingMs,
    pgBossBatch: options.pgBossBatch,
    keelSleepMs: options.keelSleepMs,
    timeoutMs: 180_000,
  };
  const peerModule = await import(join(HERE, `peers/${spec.module}.mjs`));
  try {
    await runChild('setup', peer, ctx, options.workerCpu);
    // Enqueue from the worker's core: no worker runs yet, the service has the other core.
    const { RESULT: enq } = await runChild('enqueue', peer, ctx, options.workerCpu);
    let ready;
    const isReady = new Promise((resolve) => {
      ready = resolve;
    });
    const work = runChild('work', peer, ctx, options.workerCpu, (tag) => {
      if (tag === 'READY') ready();
    });
    await Promise.race([isReady, work]);
    // The latency producer shares the service's core, away from the worker.
    await runChild('latency', peer, ctx, otherCpu);
    const { THROUGHPUT: tp, RESULT: lat } = await work;
    if (tp.completed < options.jobs)
      throw new Error(`${peer}: ${tp.completed} of ${options.jobs} jobs completed`);
    const l = lat.latencies;
    const q = (p) => l[Math.min(l.length - 1, Math.floor((p / 100) * l.length))];
    return {
      enqueuePerSecond: (options.jobs * 1000) / enq.enqueueMs,
      jobsPerSecond: (options.jobs * 1000) / tp.processMs,
      p50: q(50),
      p99: q(99),
      max: l[l.length - 1],
      latencySamples: l.length,
    };
  } finally {
    await peerModule
      .teardown(ctx, helpers)
      .catch((e) => console.error(`! ${peer} teardown: ${e.message}`));
    if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  }
}

async function main() {
  ensureDependencies(HERE, 'bench/queue', fail);
  prepareKeel();
  const pgUp = await reachable(options.pgUrl, 5432);
  const redisUp = await reachable(options.redisUrl, 6379);
  const skipped = [];
  const peers = options.peers.filter((p) => {
    const service = PEERS[p].service;
    if ((service === 'postgres' && !pgUp) || (service === 'redis' && !redisUp)) {
      skipped.push(`${p} (${service} not reachable)`);
      return false;
    }
    return true;
  });
  for (const s of skipped) console.log(`! skipping ${s}`);
  if (peers.length === 0) fail('no peer can run');
  const loadStart = os.loadavg()[0];
  const distBuilt = newestMtime(join(ROOT, 'dist/queue'));
  const runId = randomBytes(3).toString('hex');
  console.log(
    `· queue bench: ${peers.length} peer(s) × ${options.rounds} round(s), ${options.jobs} jobs, concurrency ${options.concurrency}; worker on CPU ${pin ? options.workerCpu : '(not pinned)'}; run ${runId}`,
  );
  if (loadStart > 0.5)
    console.log(`! load average is ${loadStart.toFixed(2)}: other work shares these cores`);
  process.once('SIGINT', () => {
    console.log(
      '\n! interrupted: killing children (schemas/keys named kqb_' + runId + '* may remain)',
    );
    killChildren();
    process.exit(130);
  });

  const samples = {};
  for (let round = 0; round < options.rounds; round++) {
    const shift = round % peers.length;
    const order = [...peers.slice(shift), ...peers.slice(0, shift)];
    for (const peer of order) {
      const r = await measurePeer(peer, `${runId}_${round}`);
      samples[peer] ??= [];
      samples[peer][round] = r;
      console.log(
        `  ${String(round + 1).padStart(2)} ${peer.padEnd(16)} ${fmt(r.jobsPerSecond).padStart(7)} jobs/s  enqueue ${fmt(r.enqueuePerSecond).padStart(7)}/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`,
      );
    }
  }

  const rows = summarise(
    Object.fromEntries(options.peers.filter((p) => samples[p]).map((p) => [p, samples[p]])),
  );
  const rebuilt =
    options.peers.some((p) => p.startsWith('keel')) &&
    newestMtime(join(ROOT, 'dist/queue')) !== distBuilt;
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    options: { ...options, out: undefined },
    pinned: pin,
    workerCpu: options.workerCpu,
    otherCpu,
    loadStart,
    loadEnd: os.loadavg()[0],
    machine: {
      node: process.version,
      cpu: cpus[0]?.model?.trim() ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} (${os.arch()})`,
    },
    versions: await versions(peers),
    keelDistBuilt: distBuilt ? new Date(distBuilt).toISOString() : undefined,
    keelDistRebuiltDuringRun: rebuilt,
    skipped,
    rows,
  };
  report.goals = checkGoals(rows);
  const markdown = toMarkdown(report);
  mkdirSync(options.out, { recursive: true });
  const stamp = report.date.slice(0, 16).replace('T', '_').replace(':', '');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(options.out, `${name}.md`), markdown);
    writeFileSync(join(options.out, `${name}.json`), json);
  }
  console.log(`\n${markdown}· written ${join(options.out, `${stamp}.md`)} and latest.{md,json}`);
}

try {
  await main();
} catch (error) {
  killChildren();
  console.error(error);
  process.exit(1);
}
