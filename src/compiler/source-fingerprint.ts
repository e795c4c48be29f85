import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

const SOURCE = /\.(?:[cm]?[jt]s|json)$/;
const SKIP_DIRS = new Set(['node_modules', 'var', 'dist', 'build', '.git', 'coverage']);

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await walk(join(dir, entry.name), out);
    } else if (
      SOURCE.test(entry.name) &&
      !entry.name.endsWith('.d.ts') &&
      !/\.test\.[jt]s$/.test(entry.name)
    ) {
      out.push(join(dir, entry.name));
    }
  }
}

/**
 * A content hash of every source file that the compiled artifacts are derived from: the app
 * definition, config files and module folders. Content, not mtimes, so a fresh checkout
 * with the same files has the same fingerprint and artifacts stay byte-identical.
 */
export async function fingerprintSources(
  root: string,
  roots: string[],
  files: string[] = [],
  options: { statCache?: string } = {},
): Promise<string> {
  const all = [...files];
  for (const dir of roots) await walk(dir, all);
  all.sort();
  // Reading and hashing every source at each boot is the slow part. When every file has the
  // size and mtime recorded next to the last hash, that hash still holds; the content hash
  // stays the artifacts' truth, mtimes only skip recomputing it.
  let stamp: string | undefined;
  if (options.statCache) {
    const stats = await Promise.all(all.map((file) => stat(file).catch(() => undefined)));
    stamp = all.map((file, i) => `${file}:${stats[i]?.size}:${stats[i]?.mtimeMs}`).join('\n');
    const cached = await readFile(options.statCache, 'utf8').catch(() => undefined);
    if (cached) {
      const newline = cached.indexOf('\n');
      if (newline > 0 && cached.slice(newline + 1) === stamp) return cached.slice(0, newline);
    }
  }
  const digest = await hashFiles(root, all);
  if (options.statCache && stamp !== undefined) {
    const cacheFile = options.statCache;
    await mkdir(dirname(cacheFile), { recursive: true })
      .then(() => writeFile(cacheFile, `${digest}\n${stamp}`))
      .catch(() => undefined);
  }
  return digest;
}

async function hashFiles(root: string, all: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of all) {
    const content = await readFile(file).catch(() => undefined);
    if (!content) continue;
    hash.update(relative(root, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(content);
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}
