import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, installedVersion, median } from '../../lib/common.mjs';

export { median };

const HERE = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The peer each Keel backend is compared with, round by round (jobs/s ratio). */
export const REFERENCE = {
  'keel-redis': 'bullmq',
  'keel-postgres': 'graphile-worker',
};

function stat(runs, key) {
  const v = runs.map((r) => r[key]);
  return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

/** Per peer: medians (min–max) of every measure; Keel ÷ reference per round. */
export function summarise(samples) {
  const rows = [];
  for (const [peer, runs] of Object.entries(samples)) {
    const ref = samples[REFERENCE[peer]];
    const ratios = ref ? runs.map((r, i) => r.jobsPerSecond / ref[i].jobsPerSecond) : [];
    rows.push({
      peer,
      jobsPerSecond: stat(runs, 'jobsPerSecond'),
      enqueuePerSecond: stat(runs, 'enqueuePerSecond'),
      p50: stat(runs, 'p50'),
      p99: stat(runs, 'p99'),
      reference: ref ? REFERENCE[peer] : undefined,
      ratio: ratios.length
        ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
        : undefined,
      runs,
    });
  }
  return rows;
}

async function serverVersions() {
  const out = {};
  try {
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'test',
    });
    await client.connect();
    out.postgres = (await client.query('SHOW server_version')).rows[0].server_version;
    await client.end();
  } catch {}
  try {
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379', {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    await redis.connect();
    out.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    await redis.quit();
  } catch {}
  return out;
}

export async function versions(peers) {
  const out = {};
  if (peers.some((p) => p.startsWith('keel'))) {
    const dirty = git(['status', '--porcelain', '--', 'src/queue'])
      ? ' (src/queue has uncommitted changes)'
      : '';
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    out.keel = `${version} @ ${git(['rev-parse', '--short', 'HEAD'])}${dirty}; bullmq ${installedVersion('bullmq', ROOT)}, pg ${installedVersion('pg', ROOT)}, better-sqlite3 ${installedVersion('better-sqlite3', ROOT)}, kysely ${installedVersion('kysely', ROOT)}`;
  }
  if (peers.includes('bullmq'))
    out.bullmq = `bullmq ${installedVersion('bullmq', HERE)}, ioredis ${installedVersion('ioredis', HERE)}`;
  if (peers.includes('graphile-worker'))
    out['graphile-worker'] =
      `graphile-worker ${installedVersion('graphile-worker', HERE)}, pg ${installedVersion('pg', HERE)}`;
  if (peers.includes('pg-boss'))
    out['pg-boss'] =
      `pg-boss ${installedVersion('pg-boss', HERE)}, pg ${installedVersion('pg', HERE)}`;
  const servers = await serverVersions();
  if (servers.postgres) out['PostgreSQL server'] = servers.postgres;
  if (servers.redis) out['Redis server'] = servers.redis;
  return out;
}

export const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

export function toMarkdown(report) {
  const o = report.options;
  const lines = [
    `# Queue benchmark — ${report.date}`,
    '',
    `${o.jobs.toLocaleString('en-US')} no-op jobs per peer and round, enqueued in batches of ${o.batch}, then processed by one worker process at concurrency ${o.concurrency}; then ${o.latencyJobs} jobs enqueued one at a time, ${o.spacingMs} ms apart, from another process to the idle worker. ${o.rounds} rounds, the peers' order rotating from round to round; a fresh schema / Redis prefix / SQLite file per peer and round.`,
    '',
    `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, ${report.machine.os}, Node ${report.machine.node}. ${report.pinned ? `Worker pinned to CPU ${report.workerCpu} (also the enqueue phase); latency producer on CPU ${report.otherCpu}; PostgreSQL and Redis not pinned (they get what the worker leaves)` : 'Not pinned'}. 1-minute load average ${report.loadStart.toFixed(2)} at start${report.loadStart > 0.5 ? ' **(above 0.5: other work shared the cores)**' : ''}, ${report.loadEnd.toFixed(2)} at the end.`,
    '',
    'Versions:',
    ...Object.entries(report.versions).map(
      ([peer, v]) =>
        `- ${peer}: ${v}${peer === 'keel' && report.keelDistBuilt ? ` (dist/queue built ${report.keelDistBuilt}${report.keelDistRebuiltDuringRun ? ', **rebuilt during the run**' : ''})` : ''}`,
    ),
    '',
    ...(report.skipped.length ? [`Skipped: ${report.skipped.join(', ')}.`, ''] : []),
    "Medians over the rounds (min–max). jobs/s: first handler start to last recorded completion. Latency: enqueue call → handler start. Ratio: Keel jobs/s ÷ the reference peer's in the same round.",
    '',
    '| peer | jobs/s | enqueue jobs/s | p50 ms | p99 ms | Keel ÷ reference |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of report.rows) {
    const ratio = row.ratio ? `${range(row.ratio, (r) => r.toFixed(2))} vs ${row.reference}` : '–';
    lines.push(
      `| ${row.peer} | ${range(row.jobsPerSecond, fmt)} | ${range(row.enqueuePerSecond, fmt)} | ${range(row.p50, ms)} | ${range(row.p99, ms)} | ${ratio} |`,
    );
  }
  lines.push('', '## Goals', '', '| goal | measured | met |', '|---|---|---|');
  for (const g of report.goals) lines.push(`| ${g.goal} | ${g.measured} | ${g.met} |`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}

export function checkGoals(rows) {
  const find = (p) => rows.find((r) => r.peer === p);
  const goals = [];
  const pg = find('keel-postgres');
  goals.push(
    pg
      ? {
          goal: 'Keel on PostgreSQL ≥ 5,000 jobs/s, p50 ≤ 5 ms',
          measured: `${fmt(pg.jobsPerSecond.median)} jobs/s, p50 ${ms(pg.p50.median)} ms`,
          met: pg.jobsPerSecond.median >= 5000 && pg.p50.median <= 5 ? 'yes' : '**no**',
        }
      : {
          goal: 'Keel on PostgreSQL ≥ 5,000 jobs/s, p50 ≤ 5 ms',
          measured: 'not measured',
          met: 'n/a',
        },
  );
  const lite = find('keel-sqlite');
  goals.push(
    lite
      ? {
          goal: 'Keel on SQLite ≥ 10,000 jobs/s',
          measured: `${fmt(lite.jobsPerSecond.median)} jobs/s`,
          met: lite.jobsPerSecond.median >= 10_000 ? 'yes' : '**no**',
        }
      : { goal: 'Keel on SQLite ≥ 10,000 jobs/s', measured: 'not measured', met: 'n/a' },
  );
  const redis = find('keel-redis');
  goals.push(
    redis?.ratio
      ? {
          goal: "Keel's Redis driver within 10% of raw BullMQ (jobs/s ≥ 0.90×)",
          measured: `${range(redis.ratio, (r) => r.toFixed(2))}×`,
          met: redis.ratio.median >= 0.9 ? 'yes' : '**no**',
        }
      : {
          goal: "Keel's Redis driver within 10% of raw BullMQ",
          measured: 'not measured',
          met: 'n/a',
        },
  );
  return goals;
}
