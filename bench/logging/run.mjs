#!/usr/bin/env node
// The logging benchmark: CPU per access line, Keel's access log against plain pino, each line
// written to a real file. Three peers: `keel` (the access log's own formatting, through Keel's
// file channel), `keel-pino` (the same access log when a redaction path sends it through
// pino) and `pino` (plain pino with the same fields to a sonic-boom file destination, as a
// Fastify app logs). Keel's line carries more than pino's: the env, version and memory fields,
// secret redaction and card-number masking. Each measurement is its own process (line.mjs);
// rounds rotate the peers' order. See bench/README.md for the method.
//
//   node bench/logging/run.mjs                      5 rounds of 200,000 lines per peer (~1 min)
//   node bench/logging/run.mjs --rounds 3 --lines 100000 --peers keel,pino --build
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildKeel, cliTools, git, median } from '../lib/common.mjs';

const { fail, positiveInt, pickList } = cliTools('bench/logging');
const HERE = fileURLToPath(new URL('./', import.meta.url));
const PEERS = ['keel', 'keel-pino', 'pino'];

const USAGE = `Usage: node bench/logging/run.mjs [options]

  --rounds N     rounds, each peer once per round (default 5)
  --lines N      measured lines per peer and round (default 200000)
  --peers a,b    peers (default: ${PEERS.join(', ')}); keel is the baseline of the ratios
  --out DIR      results folder (default bench/logging/results)
  --build        run npm run build first
  --help`;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    lines: { type: 'string', default: '200000' },
    peers: { type: 'string' },
    out: { type: 'string', default: join(HERE, 'results') },
    build: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rounds = positiveInt('rounds', values.rounds);
const lines = positiveInt('lines', values.lines);
const peers = pickList('peer', values.peers, PEERS, { knownOrder: true });
buildKeel({ build: values.build, subsystem: 'observability', needed: 'dist/index.js', fail });

const samples = Object.fromEntries(peers.map((peer) => [peer, []]));
console.log(`· ${peers.join(', ')}: ${rounds} round(s) of ${lines.toLocaleString('en-US')} lines`);
for (let round = 0; round < rounds; round++) {
  // Rotate who goes first: a peer never always runs on a warmer (or busier) machine.
  const order = peers.map((_, i) => peers[(i + round) % peers.length]);
  for (const peer of order) {
    const result = spawnSync(
      process.execPath,
      [join(HERE, 'line.mjs'), '--peer', peer, '--lines', String(lines)],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) fail(`${peer} failed:\n${result.stderr}`);
    const sample = JSON.parse(result.stdout.trim().split('\n').pop());
    samples[peer].push(sample);
    const cpu = sample.user + sample.system;
    console.log(
      `  ${String(round + 1).padStart(2)} ${peer.padEnd(10)} ${Math.round(cpu).toLocaleString('en-US').padStart(6)} ns/line (user ${Math.round(sample.user)}, system ${Math.round(sample.system)})`,
    );
  }
}

const cpu = (s) => s.user + s.system;
const base = peers.includes('keel') ? 'keel' : peers[0];
const rows = peers.map((peer) => {
  const perRound = samples[peer].map(cpu);
  // Per round, against the baseline of the same round.
  const ratios = samples[peer].map((s, i) => cpu(s) / cpu(samples[base][i]));
  return {
    peer,
    cpu: median(perRound),
    user: median(samples[peer].map((s) => s.user)),
    system: median(samples[peer].map((s) => s.system)),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    bytes: samples[peer].at(-1).bytesPerLine,
  };
});

const date = new Date();
const stamp = date.toISOString().slice(0, 16).replace('T', '_').replace(':', '');
const load = os.loadavg()[0];
const md = [
  `# Logging benchmark — ${date.toISOString()}`,
  '',
  `CPU per access line (user + system of the whole process, the file's writer threads included, the same loop without logging subtracted), ${lines.toLocaleString('en-US')} lines per peer and round after as many unmeasured ones, ${rounds} round(s), medians. Each line goes to a real file. Lower is better; "÷ ${base}" is the peer's CPU over ${base}'s in the same round.`,
  '',
  `Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}, 1-minute load average at the end ${load.toFixed(2)}. Keel @ ${git(['rev-parse', '--short', 'HEAD'])}.`,
  '',
  `| peer | CPU ns/line | user | system | bytes/line | ÷ ${base} (min–max) |`,
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.peer === base ? `**${r.peer}**` : r.peer} | ${Math.round(r.cpu).toLocaleString('en-US')} | ${Math.round(r.user)} | ${Math.round(r.system)} | ${Math.round(r.bytes)} | ${r.ratio.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)}) |`,
  ),
  '',
].join('\n');
console.log(`\n${md}`);
mkdirSync(values.out, { recursive: true });
for (const name of [`${stamp}.md`, 'latest.md']) writeFileSync(join(values.out, name), md);
writeFileSync(
  join(values.out, 'latest.json'),
  `${JSON.stringify({ date: date.toISOString(), lines, rounds, rows, samples }, null, 2)}\n`,
);
console.log(`· written ${join(values.out, `${stamp}.md`)} and latest.{md,json}`);
