#!/usr/bin/env node
// Runs benchmark suites: each folder of bench/ with a run.mjs is one (http, boot, db, ...).
//
//   npm run bench                      every suite present
//   npm run bench -- http              one suite
//   npm run bench -- http --rounds 5   options after the suite names go to each suite
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('./', import.meta.url));

const suites = readdirSync(HERE, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${HERE}${entry.name}/run.mjs`))
  .map((entry) => entry.name)
  .sort();

const args = process.argv.slice(2);
if (args.includes('--help') && !args.some((a) => suites.includes(a))) {
  console.log(
    `Usage: node bench/run.mjs [suite...] [options passed to each suite]\nSuites: ${suites.join(', ')}`,
  );
  process.exit(0);
}

// Leading bare words are suite names; the first option ends them.
const wanted = [];
let i = 0;
for (; i < args.length && !args[i].startsWith('-'); i++) {
  if (!suites.includes(args[i])) {
    console.error(`bench: unknown suite "${args[i]}"; present: ${suites.join(', ') || 'none'}`);
    process.exit(1);
  }
  wanted.push(args[i]);
}
const passThrough = args.slice(i);
const selected = wanted.length > 0 ? wanted : suites;
if (selected.length === 0) {
  console.error('bench: no suite found (a suite is a folder of bench/ with a run.mjs)');
  process.exit(1);
}

const failed = [];
for (const suite of selected) {
  console.log(`\n=== bench: ${suite} ===`);
  const result = spawnSync(process.execPath, [`${HERE}${suite}/run.mjs`, ...passThrough], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed.push(`${suite} (${result.signal ?? `exit ${result.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbench: failed: ${failed.join(', ')}`);
  process.exit(1);
}
