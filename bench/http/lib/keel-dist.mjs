// The built Keel the peers import: the benchmarks measure dist/, not src/.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KEEL_DIST = `${ROOT}dist/http/index.js`;

/**
 * 'missing' without dist/http/index.js, 'stale' when src/http changed after it was built
 * (the folder's own time: a file added or removed), else 'ok'.
 */
export function keelDistState() {
  if (!existsSync(KEEL_DIST)) return 'missing';
  const srcHttp = `${ROOT}src/http`;
  if (existsSync(srcHttp) && statSync(srcHttp).mtimeMs > statSync(KEEL_DIST).mtimeMs)
    return 'stale';
  return 'ok';
}

export const STALE_DIST_WARNING =
  '! dist/http looks older than src/http; run `npm run build` to measure the current code';
