// What every suite's harness shares: option parsing that fails with a clear message, the
// median, installed versions and the git commit for the report header.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Option helpers whose errors name the suite (`bench/cache: --rounds must be ...`) and exit 1.
 * `pickList` returns the items in the order given, or in `known`'s order with `knownOrder`.
 */
export function cliTools(suite) {
  function fail(message) {
    console.error(`${suite}: ${message}`);
    process.exit(1);
  }
  function positiveInt(name, text) {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) fail(`--${name} must be a positive integer, got "${text}"`);
    return n;
  }
  function pickList(name, text, known, { knownOrder = false } = {}) {
    if (text === undefined) return known;
    const wanted = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of wanted) {
      if (!known.includes(item)) fail(`unknown ${name} "${item}"; known: ${known.join(', ')}`);
    }
    return knownOrder ? known.filter((k) => wanted.includes(k)) : wanted;
  }
  return { fail, positiveInt, pickList };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The version of `pkg` installed under `base` (a suite folder), or 'missing'. */
export function installedVersion(pkg, base) {
  const file = join(base, 'node_modules', pkg, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : 'missing';
}

/** `git <args>` at the repo root, trimmed; 'unknown' outside a checkout. */
export function git(args) {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}
