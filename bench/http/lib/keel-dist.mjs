// The built Keel the peers import: the benchmarks measure dist/, not src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KEEL_DIST = `${ROOT}dist/http/index.js`;

/**
 * 'missing' without dist/http/index.js, 'stale' when a source file under src/http (tests
 * aside), or the folder itself (a file removed), changed after it was built, else 'ok'.
 */
export function keelDistState() {
  if (!existsSync(KEEL_DIST)) return 'missing';
  const srcHttp = `${ROOT}src/http`;
  if (!existsSync(srcHttp)) return 'ok';
  const built = statSync(KEEL_DIST).mtimeMs;
  const paths = [
    srcHttp,
    ...readdirSync(srcHttp, { recursive: true })
      .filter((file) => !file.endsWith('.test.ts'))
      .map((file) => `${srcHttp}/${file}`),
  ];
  return paths.some((path) => statSync(path).mtimeMs > built) ? 'stale' : 'ok';
}

export const STALE_DIST_WARNING =
  '! dist/http looks older than src/http; run `npm run build` to measure the current code';
