// What every suite's harness shares: option parsing that fails with a clear message, the
// median, installed versions and the git commit for the report header, installing a suite's
// own dependencies, building Keel's dist/, and probing a server's port.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
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

/** Install a suite's own dependencies (from its lock file) when its node_modules is missing. */
export function ensureDependencies(dir, suite, fail) {
  if (existsSync(join(dir, 'node_modules'))) return;
  const ci = existsSync(join(dir, 'package-lock.json'));
  console.log(`· installing ${suite} dependencies (npm ${ci ? 'ci' : 'install'})`);
  const result = spawnSync('npm', [ci ? 'ci' : 'install', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (result.status !== 0) fail(`installing ${suite} dependencies failed`);
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
export function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Build Keel's dist/ when asked (or when `needed` is missing), and warn when the measured
 * subsystem's sources are newer than its build.
 */
export function buildKeel({ build, subsystem, needed, fail }) {
  if (build || (needed !== undefined && !existsSync(join(ROOT, needed)))) {
    console.log('· building Keel (npm run build)');
    const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) fail('npm run build failed');
  }
  if (newestMtime(join(ROOT, `src/${subsystem}`)) > newestMtime(join(ROOT, `dist/${subsystem}`)))
    console.log(
      `! dist/${subsystem} looks older than src/${subsystem}; pass --build to measure the current code`,
    );
}

/** Whether a TCP server answers at `url`'s host and port within a second. */
export function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
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

/** SCAN and UNLINK every key matching `pattern` on the Redis at `url`; the count removed. */
export async function deleteRedisKeys(url, pattern) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  return deleted;
}
