#!/usr/bin/env node
// Keel's model layer against raw Kysely, on the same database in the same process:
// select-by-id and insert, on SQLite (a WAL file) and PostgreSQL (when it answers).
//
//   node bench/db/run.mjs                         5 alternating rounds (about a minute)
//   node bench/db/run.mjs --rounds 3 --ops 1000   quicker
//   node bench/db/run.mjs --dialects sqlite       one engine
//   node bench/db/run.mjs --build                 rebuild dist/ first
//
// Both sides do the same work per operation: the raw side inserts with the timestamps the
// model sets itself and reads the row back with RETURNING, as Model.create() does; select
// reads every column of one row by primary key, as Model.find() does. Raw Kysely runs on
// its own pool or handle, without Keel's instrumented driver, so the ratio is the whole
// price of Keel (driver instrumentation, ambient-transaction lookup, model hydration).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ops: { type: 'string', default: '3000' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    build: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    out: { type: 'string', default: join(HERE, 'results') },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(
    'Usage: node bench/db/run.mjs [--rounds N] [--ops N] [--dialects sqlite,postgres] [--build] [--no-pin] [--out DIR]',
  );
  process.exit(0);
}

// Pin to one core (the database server, for PostgreSQL, gets the other), once: re-exec
// under taskset unless already pinned or asked not to.
if (!options['no-pin'] && !process.env.KEEL_BENCH_PINNED && os.cpus().length >= 2) {
  const taskset = spawnSync('which', ['taskset']).status === 0;
  if (taskset) {
    const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, KEEL_BENCH_PINNED: '1' },
    });
    process.exit(child.status ?? 1);
  }
}

if (options.build || !existsSync(join(ROOT, 'dist/db/index.js'))) {
  console.log('· building dist/ (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

const keel = await import(join(ROOT, 'dist/db/index.js'));
const { createNullLogger } = await import(join(ROOT, 'dist/kernel/index.js'));
const { Kysely, PostgresDialect, SqliteDialect, sql } = await import('kysely');

const rounds = Number(options.rounds);
const ops = Number(options.ops);
const dialects = options.dialects.split(',').filter(Boolean);

function reachable(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

class Item extends keel.defineModel({
  table: 'bench_items',
  columns: {
    id: keel.column.id(),
    sku: keel.column.string(),
    name: keel.column.string(),
    qty: keel.column.integer(),
  },
  fillable: ['sku', 'name', 'qty'],
}) {}

/** A fresh namespace per engine: a temp SQLite file, or a PostgreSQL schema. */
async function setUp(dialect) {
  const namespace = `keel_bench_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(os.tmpdir(), 'keel-bench-db-'));
    const filename = join(dir, 'bench.sqlite');
    const { default: Database } = await import('better-sqlite3');
    const handle = new Database(filename, { timeout: 5000 });
    handle.pragma('journal_mode = WAL');
    handle.pragma('synchronous = NORMAL');
    return {
      config: { driver: 'sqlite', filename },
      raw: new Kysely({ dialect: new SqliteDialect({ database: handle }) }),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const { default: pg } = await import('pg');
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: 'test',
  });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${namespace}`);
  await admin.end();
  const server = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
  const pool = new pg.Pool({ ...server, max: 5, options: `-c search_path=${namespace}` });
  return {
    config: { driver: 'postgres', ...server, schema: namespace, pool: { max: 5 } },
    raw: new Kysely({ dialect: new PostgresDialect({ pool }) }),
    drop: async () => {
      const client = new pg.Client(server);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
      await client.end();
    },
  };
}

async function createTable(raw, dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const type = dialect === 'postgres' ? sql`timestamptz` : sql`timestamp`;
  await raw.schema
    .createTable('bench_items')
    .addColumn('id', id, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('sku', 'varchar(40)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('qty', 'integer', (c) => c.notNull())
    .addColumn('created_at', type, (c) => c.notNull())
    .addColumn('updated_at', type, (c) => c.notNull())
    .execute();
}

/** Run `op(i)` `ops` times in sequence; operations per second. */
async function measure(op) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await op(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return ops / seconds;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function benchDialect(dialect) {
  const target = await setUp(dialect);
  const manager = new keel.DatabaseManager({
    config: keel.resolveDatabaseConfig({ connections: { default: target.config }, slowQueryMs: 0 }),
    root: ROOT,
    logger: createNullLogger(),
  });
  keel.setDatabaseManager(manager);
  const raw = target.raw;
  // What the model writes for a timestamp: ISO text on SQLite (it binds no Date), a Date elsewhere.
  const now = dialect === 'sqlite' ? () => new Date().toISOString() : () => new Date();
  try {
    await createTable(raw, dialect);
    // Rows to read: enough that ids are spread, read in a fixed pseudo-random order.
    for (let i = 0; i < 2000; i++) {
      const at = now();
      await raw
        .insertInto('bench_items')
        .values({ sku: `SKU-${i}`, name: `Item ${i}`, qty: i, created_at: at, updated_at: at })
        .execute();
    }
    const ids = Array.from({ length: ops }, (_, i) => ((i * 7919) % 2000) + 1);
    const cases = {
      'select by id': {
        raw: (i) =>
          raw.selectFrom('bench_items').selectAll().where('id', '=', ids[i]).executeTakeFirst(),
        keel: (i) => Item.find(ids[i]),
      },
      insert: {
        raw: (i) => {
          const at = now();
          return raw
            .insertInto('bench_items')
            .values({ sku: `R-${i}`, name: 'raw', qty: i, created_at: at, updated_at: at })
            .returningAll()
            .executeTakeFirst();
        },
        keel: (i) => Item.create({ sku: `K-${i}`, name: 'keel', qty: i }),
      },
    };
    // Warm both paths (JIT, statement caches, pool) before anything counts.
    for (const c of Object.values(cases)) {
      for (let i = 0; i < 300; i++) {
        await c.raw(i);
        await c.keel(i);
      }
    }
    const results = {};
    for (const [name, c] of Object.entries(cases)) {
      const rawRuns = [];
      const keelRuns = [];
      const ratios = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so drift lands on both.
        const [a, b] = round % 2 === 0 ? ['raw', 'keel'] : ['keel', 'raw'];
        const first = await measure(c[a]);
        const second = await measure(c[b]);
        const r = a === 'raw' ? first : second;
        const k = a === 'raw' ? second : first;
        rawRuns.push(r);
        keelRuns.push(k);
        ratios.push(k / r);
      }
      results[name] = {
        raw: median(rawRuns),
        keel: median(keelRuns),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
      };
      const res = results[name];
      console.log(
        `  ${dialect.padEnd(8)} ${name.padEnd(13)} raw ${Math.round(res.raw).toLocaleString('en-US').padStart(7)} ops/s  keel ${Math.round(res.keel).toLocaleString('en-US').padStart(7)} ops/s  keel/raw ${res.ratio.toFixed(2)} (${res.ratioMin.toFixed(2)}–${res.ratioMax.toFixed(2)})`,
      );
    }
    return results;
  } finally {
    keel.setDatabaseManager(undefined);
    await manager.close();
    await raw.destroy();
    await target.drop();
  }
}

const load = os.loadavg()[0];
console.log(
  `· db bench: ${rounds} alternating round(s) × ${ops} sequential ops per case; dialects ${dialects.join(', ')}`,
);
if (load > 0.5) console.log(`! load average is ${load.toFixed(2)}: other work shares these cores`);

const all = {};
for (const dialect of dialects) {
  if (dialect === 'postgres' && !(await reachable(5432))) {
    console.log('  postgres: not reachable on 127.0.0.1:5432, skipped');
    continue;
  }
  all[dialect] = await benchDialect(dialect);
}

const versions = JSON.parse(
  execFileSync('npm', ['ls', 'kysely', 'better-sqlite3', 'pg', '--json', '--depth=0'], {
    cwd: ROOT,
  }).toString(),
).dependencies;
const stamp = new Date().toISOString();
const lines = [
  `# Database benchmark — ${stamp}`,
  '',
  `Keel models against raw Kysely, same process and database, ${rounds} alternating rounds of ${ops} sequential operations per case (after 300 warm-up operations each). Process pinned to CPU 1${process.env.KEEL_BENCH_PINNED ? '' : ' (not pinned this run)'}; PostgreSQL ${'server on the same machine'}.`,
  '',
  `Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}; 1-minute load average at start ${load.toFixed(2)}.`,
  '',
  `Versions: kysely ${versions.kysely?.version}, better-sqlite3 ${versions['better-sqlite3']?.version}, pg ${versions.pg?.version}.`,
  '',
  'keel/raw = Keel ops/s ÷ raw Kysely ops/s in the same round (median, min–max). 1.00 is no overhead; the goal is ≥ 0.90 (within 10%).',
  '',
  '| engine | case | raw Kysely ops/s | Keel model ops/s | keel/raw (min–max) |',
  '|---|---|---:|---:|---:|',
];
for (const [dialect, results] of Object.entries(all)) {
  for (const [name, r] of Object.entries(results)) {
    lines.push(
      `| ${dialect} | ${name === 'select by id' ? '`Model.find(id)` vs `selectFrom…where(id)`' : '`Model.create()` vs `insertInto…returningAll()`'} | ${Math.round(r.raw).toLocaleString('en-US')} | ${Math.round(r.keel).toLocaleString('en-US')} | ${r.ratio.toFixed(2)} (${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)}) |`,
    );
  }
}
mkdirSync(options.out, { recursive: true });
const file = stamp.slice(0, 16).replace('T', '_').replace(':', '');
const report = `${lines.join('\n')}\n`;
const json = `${JSON.stringify({ date: stamp, rounds, ops, load, results: all }, null, 2)}\n`;
for (const name of [file, 'latest']) {
  writeFileSync(join(options.out, `${name}.md`), report);
  writeFileSync(join(options.out, `${name}.json`), json);
}
console.log(`\n${report}\n· written ${join(options.out, `${file}.md`)} and latest.{md,json}`);
