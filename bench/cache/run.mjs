#!/usr/bin/env node
import { deepStrictEqual } from 'node:assert';
// The cache benchmark: Keel's cache against bentocache and cache-manager (Keyv) in the same
// process and run. Five cases: memory get, memory remember (hit), Redis get, tiered get
// (memory L1 over Redis L2) and Redis get with 50 concurrent callers. Every peer caches the
// same record under the same keys, written before anything is measured, so every measured
// read is a hit. Rounds rotate the peers' order; see bench/README.md for the method.
//
//   node bench/cache/run.mjs                       5 rounds of 1 s per peer and case (~2 min)
//   node bench/cache/run.mjs --rounds 3 --duration 300   quicker
//   node bench/cache/run.mjs --cases memory-get,redis-get --build
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildKeel,
  cliTools,
  deleteRedisKeys,
  ensureDependencies,
  newestMtime,
  reachable,
} from '../lib/common.mjs';
import { checkGoals, fmt, fmtRatio, summarise, toMarkdown, versions } from './lib/report.mjs';

const { fail, positiveInt, pickList } = cliTools('bench/cache');

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Keel first: it is the baseline every ratio divides by. */
const PEERS = ['keel', 'bentocache', 'cache-manager'];

const CASES = [
  { id: 'memory-get', title: 'memory get', kind: 'memory', op: 'get', concurrency: 1, batch: 1000 },
  {
    id: 'memory-remember',
    title: 'memory remember (hit)',
    kind: 'memory',
    op: 'remember',
    concurrency: 1,
    batch: 1000,
  },
  { id: 'redis-get', title: 'Redis get', kind: 'redis', op: 'get', concurrency: 1, batch: 50 },
  {
    id: 'tiered-get',
    title: 'tiered get (L1 hit)',
    kind: 'tiered',
    op: 'get',
    concurrency: 1,
    batch: 1000,
  },
  {
    id: 'redis-get-c50',
    title: 'Redis get, 50 concurrent callers',
    kind: 'redis',
    op: 'get',
    concurrency: 50,
    batch: 10,
  },
];

const USAGE = `Usage: node bench/cache/run.mjs [options]

  --rounds N         alternating rounds per case (default 5, at least 5 for published numbers)
  --duration MS      measured milliseconds per peer per case per round (default 1000)
  --warmup MS        unmeasured milliseconds per peer per case before the rounds (default 500)
  --keys N           distinct keys read in turn (default 1000)
  --cases a,b        cases to run (default: ${CASES.map((c) => c.id).join(', ')})
  --peers a,b        peers to run (default: ${PEERS.join(', ')})
  --redis-url URL    Redis server (default redis://127.0.0.1:6379)
  --build            run \`npm run build\` at the repo root first (Keel runs from dist/)
  --no-pin           do not pin to one CPU with taskset
  --cpu N            CPU to pin to (default 1; Redis runs on the others)
  --out DIR          results folder (default bench/cache/results)
  --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '500' },
      keys: { type: 'string', default: '1000' },
      cases: { type: 'string' },
      peers: { type: 'string' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      build: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      cpu: { type: 'string', default: '1' },
      out: { type: 'string', default: join(HERE, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0)
    fail(`--warmup must be 0 or more milliseconds, got "${values.warmup}"`);
  const cpu = Number(values.cpu);
  if (!Number.isInteger(cpu) || cpu < 0) fail(`--cpu must be a CPU number, got "${values.cpu}"`);
  return {
    rounds: positiveInt('rounds', values.rounds),
    duration: positiveInt('duration', values.duration),
    warmup,
    keys: positiveInt('keys', values.keys),
    cases: pickList(
      'case',
      values.cases,
      CASES.map((c) => c.id),
      { knownOrder: true },
    ).map((id) => CASES.find((c) => c.id === id)),
    peers: pickList('peer', values.peers, PEERS, { knownOrder: true }),
    redisUrl: values['redis-url'],
    build: values.build,
    pin: !values['no-pin'],
    cpu,
    out: values.out,
  };
}

const options = parseOptions(process.argv.slice(2));

// Pin to one core, once: re-exec under taskset unless already pinned or asked not to. The
// Redis server is not ours to pin; it gets whatever core the benchmark leaves.
if (options.pin && !process.env.KEEL_BENCH_PINNED) {
  const hasTaskset = spawnSync('which', ['taskset']).status === 0;
  if (hasTaskset && os.cpus().length > options.cpu) {
    const child = spawnSync(
      'taskset',
      ['-c', String(options.cpu), process.execPath, '--expose-gc', ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, KEEL_BENCH_PINNED: '1' } },
    );
    process.exit(child.status ?? 1);
  }
  console.log(
    `! not pinning: ${hasTaskset ? `only ${os.cpus().length} CPU(s)` : 'taskset not found (util-linux)'}`,
  );
}

function prepareKeel() {
  if (options.peers.includes('keel')) buildKeel({ build: options.build, subsystem: 'cache', fail });
}

/**
 * A measuring loop compiled separately for each peer and case, so V8's feedback for the
 * `await op(key)` call site is never shared (and made megamorphic) between libraries.
 * It runs batches of `batch` sequential operations until `deadline`; resolves to the count.
 */
function compileLoop() {
  return new Function(
    'performance',
    `return async function loop(op, keys, start, batch, deadline) {
      const k = keys.length;
      let i = start;
      let n = 0;
      for (;;) {
        for (let b = 0; b < batch; b++) {
          await op(keys[i]);
          if (++i === k) i = 0;
        }
        n += batch;
        if (performance.now() >= deadline) return n;
      }
    };`,
  )(performance);
}

/** Operations per second of `entry` over `ms` milliseconds (all callers together). */
async function measure(entry, ms) {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const { kase, keys } = entry;
  const started = performance.now();
  const deadline = started + ms;
  let ops = 0;
  if (kase.concurrency === 1) {
    ops = await entry.loop(entry.op, keys, 0, kase.batch, deadline);
  } else {
    // N callers, each awaiting one operation after another, starting at spread-out keys.
    const stride = Math.floor(keys.length / kase.concurrency) || 1;
    const counts = await Promise.all(
      Array.from({ length: kase.concurrency }, (_, w) =>
        entry.loop(entry.op, keys, (w * stride) % keys.length, kase.batch, deadline),
      ),
    );
    ops = counts.reduce((a, b) => a + b, 0);
  }
  return (ops * 1000) / (performance.now() - started);
}

/** Open `peer` for `kase`, write every key, and check that each read is a hit. */
async function openEntry(peerName, peer, kase, runPrefix, product, neverCalled) {
  // Short, as an app's prefix is ('keel:data:'): Map and Redis lookups hash the whole key.
  const prefix = `${runPrefix}${peerName[0]}${CASES.indexOf(kase)}:`;
  const cache = await peer.open(kase.kind, { prefix, redisUrl: options.redisUrl });
  const keys = Array.from({ length: options.keys }, (_, i) => `product:${i}`);
  const op =
    kase.op === 'remember' ? (key) => cache.remember(key, neverCalled) : (key) => cache.get(key);
  const entry = { peer: peerName, kase, keys, cache, op, loop: compileLoop(), product };
  try {
    for (let i = 0; i < keys.length; i++) await cache.set(keys[i], product(i));
    await verify(entry);
  } catch (error) {
    await cache.close();
    throw error;
  }
  return entry;
}

/** Every key reads back as written (a remember that missed would call neverCalled and throw). */
async function verify(entry) {
  for (let i = 0; i < entry.keys.length; i++) {
    const value = await entry.op(entry.keys[i]);
    deepStrictEqual(
      value,
      entry.product(i),
      `${entry.peer} ${entry.kase.id}: ${entry.keys[i]} reads differently`,
    );
  }
}

/** Delete every key this run wrote (they all start with the run's prefix). */
const deleteRunKeys = (runPrefix) => deleteRedisKeys(options.redisUrl, `${runPrefix}*`);

async function main() {
  ensureDependencies(HERE, 'bench/cache', fail);
  prepareKeel();
  const { product, neverCalled } = await import('./peers/shared.mjs');
  const peers = {};
  for (const name of options.peers) peers[name] = await import(`./peers/${name}.mjs`);

  const loadStart = os.loadavg()[0];
  // dist/ is shared: a rebuild by someone else mid-run would mix two builds in one report.
  const distBuilt = newestMtime(join(ROOT, 'dist/cache'));
  const redisUp = await reachable(options.redisUrl, 6379);
  // Every key of the run starts with this: unique per run, deleted at the end.
  const runPrefix = `kb:${randomBytes(4).toString('hex')}:`;
  const seconds =
    (options.cases.length *
      options.peers.length *
      (options.rounds * options.duration + options.warmup)) /
    1000;
  console.log(
    `· cache bench: ${options.cases.length} case(s) × ${options.peers.length} peer(s) × ${options.rounds} round(s) of ${options.duration} ms (~${Math.ceil(seconds)} s measured); keys under ${runPrefix}`,
  );
  if (loadStart > 0.5)
    console.log(`! load average is ${loadStart.toFixed(2)}: other work shares these cores`);

  // An interrupted run still removes its keys from the shared Redis.
  process.once('SIGINT', () => {
    console.log("\n! interrupted: deleting this run's keys");
    const done = () => process.exit(130);
    (redisUp ? deleteRunKeys(runPrefix) : Promise.resolve()).then(done, done);
  });

  const caseResults = [];
  let open = [];
  const cleanUp = async () => {
    for (const entry of open) await entry.cache.close().catch(() => {});
    open = [];
  };
  try {
    for (const kase of options.cases) {
      const skipped = [];
      const entries = [];
      if (kase.kind !== 'memory' && !redisUp) {
        skipped.push(`Redis not reachable at ${options.redisUrl}`);
      } else {
        for (const name of options.peers) {
          const why = peers[name].unavailable(kase.kind);
          if (why) {
            skipped.push(`${name} (${why})`);
            continue;
          }
          const entry = await openEntry(name, peers[name], kase, runPrefix, product, neverCalled);
          entries.push(entry);
          open.push(entry);
        }
      }
      for (const s of skipped) console.log(`! ${kase.id}: skipping ${s}`);
      const samples = {};
      if (entries.length > 0 && options.warmup > 0) {
        for (const entry of entries) await measure(entry, options.warmup);
      }
      for (let round = 0; round < options.rounds && entries.length > 0; round++) {
        const shift = round % entries.length;
        const order = [...entries.slice(shift), ...entries.slice(0, shift)];
        for (const entry of order) {
          const ops = await measure(entry, options.duration);
          samples[entry.peer] ??= [];
          samples[entry.peer][round] = ops;
          console.log(
            `  ${String(round + 1).padStart(2)} ${kase.id.padEnd(15)} ${entry.peer.padEnd(13)} ${fmt(ops).padStart(11)} ops/s`,
          );
        }
      }
      // Still all hits after the rounds: nothing expired or was evicted while measuring.
      for (const entry of entries) await verify(entry);
      // Keep the peers' usual order in the table, whatever order they ran in.
      const ordered = Object.fromEntries(
        options.peers.filter((p) => samples[p]).map((p) => [p, samples[p]]),
      );
      const rows = summarise(ordered);
      caseResults.push({ id: kase.id, title: kase.title, skipped, rows });
      for (const row of rows) {
        console.log(
          `  = ${kase.id.padEnd(15)} ${row.peer.padEnd(13)} ${fmt(row.opsPerSecond).padStart(11)} ops/s` +
            (row.keelRatio === undefined
              ? ''
              : `  keel ÷ ${row.peer} ${fmtRatio(row.keelRatio)} (${fmtRatio(row.keelRatioMin)}–${fmtRatio(row.keelRatioMax)})`),
        );
      }
      await cleanUp();
    }
  } finally {
    await cleanUp();
    if (redisUp) {
      const deleted = await deleteRunKeys(runPrefix);
      console.log(`· deleted ${deleted} key(s) under ${runPrefix}`);
    }
  }

  const rebuilt =
    options.peers.includes('keel') && newestMtime(join(ROOT, 'dist/cache')) !== distBuilt;
  if (rebuilt)
    console.log("! dist/cache was rebuilt during the run: Keel's numbers may mix two builds");
  const cpus = os.cpus();
  const date = new Date();
  const report = {
    date: date.toISOString(),
    rounds: options.rounds,
    durationMs: options.duration,
    warmupMs: options.warmup,
    keys: options.keys,
    peers: options.peers,
    redisUrl: options.redisUrl,
    pinned: Boolean(process.env.KEEL_BENCH_PINNED),
    cpu: options.cpu,
    loadStart,
    loadEnd: os.loadavg()[0],
    machine: {
      node: process.version,
      cpu: cpus[0]?.model?.trim() ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} (${os.arch()})`,
    },
    versions: versions(options.peers),
    keelDistBuilt: distBuilt ? new Date(distBuilt).toISOString() : undefined,
    keelDistRebuiltDuringRun: rebuilt,
    cases: caseResults,
  };
  report.goals = checkGoals(caseResults);
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

await main();
