import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, installedVersion, median } from '../../lib/common.mjs';

export { median };

const HERE = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The issue's goals: Keel ÷ bentocache at least `ratio`, and Keel above `opsPerSecond`. */
export const GOALS = {
  'memory-get': { ratio: 8, opsPerSecond: 2_000_000 },
  'memory-remember': { ratio: 8, opsPerSecond: 2_000_000 },
  'redis-get': { ratio: 1 },
  'tiered-get': { ratio: 1 },
  'redis-get-c50': { ratio: 1 },
};

/** Per peer: median ops/s with min–max, and Keel ÷ peer per round (median, min–max). */
export function summarise(samples) {
  const rows = [];
  const keel = samples.keel;
  for (const [peer, runs] of Object.entries(samples)) {
    const ratios = keel && peer !== 'keel' ? runs.map((ops, i) => keel[i] / ops) : [];
    rows.push({
      peer,
      opsPerSecond: median(runs),
      min: Math.min(...runs),
      max: Math.max(...runs),
      runs,
      keelRatio: ratios.length ? median(ratios) : undefined,
      keelRatioMin: ratios.length ? Math.min(...ratios) : undefined,
      keelRatioMax: ratios.length ? Math.max(...ratios) : undefined,
    });
  }
  return rows;
}

export function versions(peers) {
  const out = {};
  for (const peer of peers) {
    if (peer === 'keel') {
      const dirty = git(['status', '--porcelain', '--', 'src/cache'])
        ? ' (src/cache has uncommitted changes)'
        : '';
      const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
      out.keel = `${version} @ ${git(['rev-parse', '--short', 'HEAD'])}${dirty}, ioredis ${installedVersion('ioredis', ROOT)}`;
    } else if (peer === 'bentocache') {
      out.bentocache = `bentocache ${installedVersion('bentocache', HERE)}, ioredis ${installedVersion('ioredis', HERE)}`;
    } else {
      out[peer] = ['cache-manager', 'keyv', 'cacheable', '@keyv/redis', '@redis/client']
        .map((p) => `${p} ${installedVersion(p, HERE)}`)
        .join(', ');
    }
  }
  return out;
}

export const fmt = (n) => Math.round(n).toLocaleString('en-US');
export const fmtRatio = (r) => (r === undefined ? '–' : r.toFixed(2));

export function toMarkdown(report) {
  const lines = [
    `# Cache benchmark — ${report.date}`,
    '',
    `Keel's cache against ${report.peers.filter((p) => p !== 'keel').join(' and ')}, one process, ${report.rounds} rounds; in each round every peer runs every case for ${report.durationMs} ms (after ${report.warmupMs} ms of unmeasured warm-up per peer and case), the peers' order rotating from round to round. ${report.keys} keys read in turn, all written before measuring; every read is a hit.`,
    '',
    `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, ${report.machine.os}, Node ${report.machine.node}. ${report.pinned ? `Process pinned to CPU ${report.cpu}` : 'Not pinned'}; Redis at ${report.redisUrl} on the same machine. 1-minute load average ${report.loadStart.toFixed(2)} at start${report.loadStart > 0.5 ? ' **(above 0.5: other work shared the cores; rounds vary more)**' : ''}, ${report.loadEnd.toFixed(2)} at the end.`,
    '',
    'Versions:',
    ...Object.entries(report.versions).map(
      ([peer, v]) =>
        `- ${peer}: ${v}${peer === 'keel' && report.keelDistBuilt ? ` (dist/cache built ${report.keelDistBuilt}${report.keelDistRebuiltDuringRun ? ', **rebuilt during the run**' : ''})` : ''}`,
    ),
    '',
    "ops/s: median over the rounds (min–max). Keel ÷ peer: Keel ops/s divided by the peer's in the same round, median (min–max) over the rounds; above 1 means Keel is faster.",
    '',
  ];
  for (const result of report.cases) {
    lines.push(`## ${result.title}`, '');
    if (result.skipped.length) lines.push(...result.skipped.map((s) => `Skipped: ${s}.`), '');
    if (result.rows.length === 0) continue;
    lines.push('| peer | ops/s | min–max | Keel ÷ peer (min–max) |', '|---|---:|---:|---:|');
    for (const row of result.rows) {
      const ratio =
        row.keelRatio === undefined
          ? '–'
          : `${fmtRatio(row.keelRatio)} (${fmtRatio(row.keelRatioMin)}–${fmtRatio(row.keelRatioMax)})`;
      lines.push(
        `| ${row.peer} | ${fmt(row.opsPerSecond)} | ${fmt(row.min)}–${fmt(row.max)} | ${ratio} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Goals', '', '| case | goal | measured | met |', '|---|---|---|---|');
  for (const goal of report.goals)
    lines.push(`| ${goal.title} | ${goal.goal} | ${goal.measured} | ${goal.met} |`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}

export function checkGoals(caseResults) {
  const goals = [];
  for (const result of caseResults) {
    const goal = GOALS[result.id];
    if (!goal) continue;
    const keel = result.rows.find((r) => r.peer === 'keel');
    const bento = result.rows.find((r) => r.peer === 'bentocache');
    const text = `≥ ${goal.ratio.toFixed(1)}× bentocache${goal.opsPerSecond ? ` and > ${fmt(goal.opsPerSecond)} ops/s` : ''}`;
    if (!keel || !bento) {
      goals.push({ title: result.title, goal: text, measured: 'not measured', met: 'n/a' });
      continue;
    }
    const met =
      bento.keelRatio >= goal.ratio &&
      (goal.opsPerSecond === undefined || keel.opsPerSecond > goal.opsPerSecond);
    goals.push({
      title: result.title,
      goal: text,
      measured: `${fmtRatio(bento.keelRatio)}× (${fmtRatio(bento.keelRatioMin)}–${fmtRatio(bento.keelRatioMax)}), ${fmt(keel.opsPerSecond)} ops/s`,
      met: met ? 'yes' : '**no**',
    });
  }
  return goals;
}
