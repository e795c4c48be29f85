#!/usr/bin/env node
// What one no-op job costs each process, Keel's Redis driver against BullMQ (and Keel's
// database drivers): the worker's CPU time (user and system) and, on Redis, the server's
// CPU time and the commands it ran, per job. Throughput on a 2-core machine swings by ±15%
// from run to run; CPU time per job moves much less, and the commands per job not at all.
// With --callgrind the worker runs under valgrind twice (--small and --jobs jobs) and the
// difference of the two instruction counts, per job, is reported: startup cancels out.
//
//   node bench/queue/cost.mjs                              keel-redis and bullmq, 5 rounds
//   node bench/queue/cost.mjs --peers keel-sqlite --rounds 3
//   node bench/queue/cost.mjs --callgrind --jobs 3500      instructions per job (~6 min)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildKeel, cliTools, ensureDependencies, median } from '../lib/common.mjs';
import { pgServer, teardownHelpers } from './lib/services.mjs';

const { fail, positiveInt } = cliTools('bench/queue/cost');
const HERE = fileURLToPath(new URL('./', import.meta.url));

const PEERS = {
  'keel-redis': { module: 'keel', driver: 'redis' },
  bullmq: { module: 'bullmq', driver: 'redis' },
  'keel-sqlite': { module: 'keel', driver: 'sqlite' },
  'keel-postgres': { module: 'keel', driver: 'postgres' },
};

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: 'keel-redis,bullmq' },
    rounds: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '10000' },
    small: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '25' },
    callgrind: { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`Usage: node bench/queue/cost.mjs [--peers a,b] [--rounds N] [--jobs N]
  [--concurrency N] [--callgrind [--small N]] [--build] [--redis-url URL] [--pg-url URL]
peers: ${Object.keys(PEERS).join(', ')}`);
  process.exit(0);
}
const peers = values.peers.split(',').map((p) => p.trim());
for (const p of peers) if (!PEERS[p]) fail(`unknown peer "${p}"; known: ${Object.keys(PEERS)}`);
const rounds = positiveInt('rounds', values.rounds);
const jobs = positiveInt('jobs', values.jobs);
const small = positiveInt('small', values.small);
const concurrency = positiveInt('concurrency', values.concurrency);
if (values.callgrind && small >= jobs) fail('--small must be below --jobs');
if (values.callgrind && spawnSync('which', ['valgrind']).status !== 0)
  fail('--callgrind needs valgrind (apt-get install valgrind)');
const pin = spawnSync('which', ['taskset']).status === 0 && os.cpus().length >= 2;

/** Run lib/child.mjs `step` for `peer` (under `wrap`, a command prefix); its RESULT. */
function child(step, peer, ctx, wrap = []) {
  const args = [join(HERE, 'lib/child.mjs'), step, PEERS[peer].module];
  const [cmd, ...argv] = [...wrap, process.execPath, ...args];
  const proc = spawn(cmd, argv, {
    cwd: HERE,
    env: { ...process.env, KEEL_QUEUE_BENCH_CTX: JSON.stringify(ctx), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => {
    out += c;
  });
  proc.stderr.on('data', (c) => {
    err += c;
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0) resolve(line ? JSON.parse(line.slice(7)) : {});
      else reject(new Error(`${peer} ${step} exited with ${code}\n${err.slice(-2000)}`));
    });
  });
}

/** The Redis server's CPU seconds and per-command calls. */
async function redisInfo(redis) {
  const text = await redis.info('all');
  const num = (key) => Number(new RegExp(`${key}:([\\d.]+)`).exec(text)?.[1] ?? 0);
  const calls = {};
  for (const m of text.matchAll(/cmdstat_(\S+?):calls=(\d+)/g)) calls[m[1]] = Number(m[2]);
  return { cpu: num('used_cpu_user') + num('used_cpu_sys'), calls };
}

/** One peer, one round: a fresh namespace, n jobs enqueued, then a worker runs them. */
async function measure(peer, n, redis, wrap) {
  const spec = PEERS[peer];
  const id = `kqc_${randomBytes(4).toString('hex')}`;
  const dir = spec.driver === 'sqlite' ? mkdtempSync(join(os.tmpdir(), 'keel-cost-')) : undefined;
  const ctx = {
    driver: spec.driver,
    pg: pgServer(values['pg-url']),
    schema: id,
    redisUrl: values['redis-url'],
    prefix: id,
    sqliteFile: dir ? join(dir, 'queue.sqlite') : undefined,
    jobs: n,
    batch: 1000,
    concurrency,
    timeoutMs: 900_000,
  };
  const module = await import(join(HERE, `peers/${spec.module}.mjs`));
  try {
    await child('setup', peer, ctx);
    await child('enqueue', peer, ctx);
    const before = spec.driver === 'redis' ? await redisInfo(redis) : undefined;
    const used = await child('cost', peer, ctx, wrap);
    const after = spec.driver === 'redis' ? await redisInfo(redis) : undefined;
    const commands = {};
    if (before && after)
      for (const [name, calls] of Object.entries(after.calls)) {
        const perJob = (calls - (before.calls[name] ?? 0)) / n;
        if (perJob >= 0.05) commands[name] = perJob;
      }
    return {
      jobsPerSecond: (n * 1000) / used.wallMs,
      userUs: used.userUs / n,
      systemUs: used.systemUs / n,
      redisUs: before && after ? ((after.cpu - before.cpu) * 1e6) / n : undefined,
      commands,
    };
  } finally {
    await module
      .teardown(ctx, helpers)
      .catch((e) => console.error(`! ${peer} teardown: ${e.message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Instructions the worker process ran for `n` jobs (callgrind, everything included). */
async function instructions(peer, n, redis) {
  const out = join(mkdtempSync(join(os.tmpdir(), 'keel-cg-')), 'callgrind.out');
  await measure(peer, n, redis, ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`]);
  const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(join(out, '..'), { recursive: true, force: true });
  if (!summary) throw new Error(`${peer}: no instruction count in the callgrind output`);
  return Number(summary[1]);
}

const helpers = teardownHelpers({ pgUrl: values['pg-url'], redisUrl: values['redis-url'] });
const fmt = (v, digits = 1) => (v === undefined ? '–' : v.toFixed(digits));

async function main() {
  ensureDependencies(HERE, 'bench/queue', fail);
  if (peers.some((p) => p.startsWith('keel')))
    buildKeel({ build: values.build, subsystem: 'queue', needed: 'dist/queue/index.js', fail });
  const { Redis } = await import('ioredis');
  const redis = new Redis(values['redis-url'], { maxRetriesPerRequest: 2 });
  try {
    if (values.callgrind) {
      console.log(`· instructions per job: (${jobs} jobs − ${small} jobs) ÷ ${jobs - small}`);
      for (const peer of peers) {
        const few = await instructions(peer, small, redis);
        const many = await instructions(peer, jobs, redis);
        console.log(`  ${peer.padEnd(14)} ${Math.round((many - few) / (jobs - small))} per job`);
      }
      return;
    }
    const wrap = pin ? ['taskset', '-c', '1'] : [];
    console.log(
      `· ${peers.join(', ')}: ${rounds} round(s) of ${jobs} jobs, concurrency ${concurrency}${pin ? ', worker on CPU 1' : ''}`,
    );
    const samples = Object.fromEntries(peers.map((p) => [p, []]));
    for (let round = 0; round < rounds; round++) {
      const shift = round % peers.length;
      for (const peer of [...peers.slice(shift), ...peers.slice(0, shift)]) {
        const r = await measure(peer, jobs, redis, wrap);
        samples[peer].push(r);
        console.log(
          `  ${round + 1} ${peer.padEnd(14)} ${fmt(r.jobsPerSecond, 0).padStart(6)} jobs/s  worker ${fmt(r.userUs)} + ${fmt(r.systemUs)} µs  redis ${fmt(r.redisUs)} µs`,
        );
      }
    }
    console.log(
      '\n| peer | jobs/s | worker user µs/job | worker system µs/job | Redis µs/job | Redis commands per job |',
    );
    console.log('|---|---:|---:|---:|---:|---|');
    for (const [peer, runs] of Object.entries(samples)) {
      const m = (key) => median(runs.map((r) => r[key]).filter((v) => v !== undefined));
      const commands = Object.entries(runs[0].commands)
        .map(([name, perJob]) => `${name} ${perJob.toFixed(2)}`)
        .join(', ');
      console.log(
        `| ${peer} | ${fmt(m('jobsPerSecond'), 0)} | ${fmt(m('userUs'))} | ${fmt(m('systemUs'))} | ${fmt(runs[0].redisUs === undefined ? undefined : m('redisUs'))} | ${commands || '–'} |`,
      );
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exit(1);
}
