#!/usr/bin/env node
// Pools the samples of several run.mjs reports (their .json files) into one summary, so a
// difference too small for one run to settle can be judged on every fork of every run.
// Each run's forks and rounds are renumbered after the previous run's, so a ratio still pairs
// two servers' runs of the same round of the same run. Only servers and routes measured in
// every run are pooled.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ROUTES } from './lib/load-generator.mjs';
import { pickBaseline, summarise, toMarkdown } from './lib/report.mjs';

const USAGE = `Usage: node bench/http/pool.mjs <run.json> [<run.json> ...]

Pools the samples of several bench/http/run.mjs reports and prints one Markdown summary
whose "per fork" column lists every fork of every run, in the order given. Given one
report, it summarises that run again with the current report code.`;

function fail(message) {
  console.error(`pool.mjs: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function load(file) {
  try {
    const run = JSON.parse(readFileSync(file, 'utf8'));
    if (!run.meta || !run.samples) throw new Error('no meta or samples: not a run.mjs report');
    return run;
  } catch (error) {
    return fail(`cannot read ${file}: ${error.message}`);
  }
}

/** Every run's samples, forks and rounds renumbered to follow the previous run's. */
function pool(runs) {
  const samples = {};
  let forkBase = 0;
  let roundBase = 0;
  for (const run of runs) {
    let forks = 0;
    let rounds = 0;
    for (const [server, byRoute] of Object.entries(run.samples)) {
      for (const [route, list] of Object.entries(byRoute)) {
        for (const sample of list) {
          const fork = sample.fork ?? 1;
          forks = Math.max(forks, fork);
          rounds = Math.max(rounds, sample.round);
          samples[server] ??= {};
          samples[server][route] ??= [];
          samples[server][route].push({
            ...sample,
            fork: forkBase + fork,
            round: roundBase + sample.round,
          });
        }
      }
    }
    forkBase += forks;
    roundBase += rounds;
  }
  return { samples, forks: forkBase };
}

function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length === 0) fail('give one or more reports');
  const runs = positionals.map(load);
  const everywhere = (lists) => lists[0].filter((x) => lists.every((list) => list.includes(x)));
  const servers = everywhere(runs.map((run) => run.meta.order ?? Object.keys(run.samples)));
  const routeIds = everywhere(
    runs.map((run) => [...new Set(Object.values(run.samples).flatMap((r) => Object.keys(r)))]),
  );
  const routes = ROUTES.filter((route) => routeIds.includes(route.id));
  if (servers.length === 0 || routes.length === 0) fail('the runs share no server and route');
  const { samples, forks } = pool(runs);
  const baseline = pickBaseline(servers);
  const first = runs[0].meta;
  const meta = {
    ...first,
    forks,
    rounds: runs.map((run) => run.meta.rounds).join('+'),
    loadBefore: Math.max(...runs.map((run) => run.meta.loadBefore)),
  };
  const summary = summarise(samples, servers, routes, baseline);
  if (runs.length > 1)
    console.log(
      `Pooled ${runs.length} runs: ${runs.map((run) => `${run.meta.date} (${run.meta.forks ?? 1} fork(s), keel ${run.meta.versions?.keel ?? 'not measured'})`).join(', ')}.\n`,
    );
  console.log(toMarkdown({ meta, summary, routes, baseline }));
}

main();
