import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { E_BUILD_FAILED } from './errors.js';

const SKIP_DIRS = new Set(['node_modules', 'var', 'build', 'dist', '.git', 'coverage']);
const TS = /\.(?:m?ts|tsx)$/;

export interface BuildOptions {
  root: string;
  /** Output folder; default `<root>/build`. */
  outDir?: string;
  /** Also emit one bundled `server.mjs` with the app, its modules and Keel inside. */
  bundle?: boolean;
  /** Packages left outside the bundle (native addons, optional drivers). */
  external?: string[];
  /** Module folders (relative to root) to include in the bundle, in load order. */
  modules?: Array<{ dir: string; file: string }>;
  /** Config files (relative to root), namespace → file. */
  configFiles?: Record<string, string>;
  appFile?: string;
  /** Import specifiers to redirect while bundling (e.g. to a source checkout). */
  alias?: Record<string, string>;
}

export interface BuildResult {
  outDir: string;
  files: number;
  bundle?: { file: string; bytes: number };
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.'))
        await walk(join(dir, entry.name), out);
    } else if (
      !/\.test\.[cm]?[jt]s$/.test(entry.name) &&
      !entry.name.endsWith('.d.ts') &&
      entry.name !== '.env'
    ) {
      out.push(join(dir, entry.name));
    }
  }
}

function jsName(file: string): string {
  return file.replace(/\.mts$/, '.mjs').replace(/\.tsx?$/, '.js');
}

const DEFAULT_EXTERNAL = [
  'better-sqlite3',
  'pg',
  'pg-native',
  'mysql2',
  'ioredis',
  'bullmq',
  'pino-pretty',
  'tsx',
  'esbuild',
  'fsevents',
];

/**
 * Compile an application's TypeScript to JavaScript in a mirror folder (production runs it
 * without a TS loader), copy its other files (views, JSON), and optionally bundle it into a
 * single `server.mjs` for the fastest cold start.
 */
export async function buildApp(options: BuildOptions): Promise<BuildResult> {
  const esbuild = await import('esbuild');
  const outDir = options.outDir ?? join(options.root, 'build');
  await rm(outDir, { recursive: true, force: true });
  const files: string[] = [];
  await walk(options.root, files);
  for (const file of files) {
    const rel = relative(options.root, file);
    if (rel.startsWith(`..${sep}`)) continue;
    const target = join(outDir, TS.test(file) ? jsName(rel) : rel);
    await mkdir(dirname(target), { recursive: true });
    if (TS.test(file)) {
      try {
        const source = await readFile(file, 'utf8');
        const result = await esbuild.transform(source, {
          loader: file.endsWith('x') ? 'tsx' : 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: rel,
          sourcemap: 'inline',
        });
        await writeFile(target, result.code);
      } catch (error) {
        throw new E_BUILD_FAILED(`${rel}: ${(error as Error).message}`).withCause(error);
      }
    } else {
      await copyFile(file, target);
    }
  }
  const result: BuildResult = { outDir, files: files.length };
  if (options.bundle) result.bundle = await bundleApp(outDir, options);
  return result;
}

function spec(path: string): string {
  return `./${jsName(path).split(sep).join('/')}`;
}

async function bundleApp(
  outDir: string,
  options: BuildOptions,
): Promise<{ file: string; bytes: number }> {
  const esbuild = await import('esbuild');
  const modules = options.modules ?? [];
  const lines = [
    `import { runBundledApp } from 'keel/cli';`,
    `import * as definition from '${spec(options.appFile ?? 'keel.config.ts')}';`,
  ];
  for (const [i, m] of modules.entries()) {
    lines.push(`import * as module${i} from '${spec(m.file)}';`);
  }
  const configEntries = Object.entries(options.configFiles ?? {});
  for (const [i, [, file]] of configEntries.entries()) {
    lines.push(`import * as config${i} from '${spec(file)}';`);
  }
  lines.push(
    `const root = new URL('.', import.meta.url);`,
    `await runBundledApp({`,
    `  root,`,
    `  definition: definition.default,`,
    `  modules: [${modules
      .map(
        (m, i) =>
          `{ manifest: module${i}.default, dir: ${JSON.stringify(m.dir)}, file: ${JSON.stringify(jsName(m.file))} }`,
      )
      .join(', ')}],`,
    `  appConfig: { ${configEntries.map(([ns], i) => `${JSON.stringify(ns)}: config${i}.default`).join(', ')} },`,
    `});`,
  );
  const entry = join(outDir, '.keel-entry.mjs');
  await writeFile(entry, `${lines.join('\n')}\n`);
  const file = join(outDir, 'server.mjs');
  try {
    const built = await esbuild.build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minifySyntax: true,
      legalComments: 'none',
      external: [...DEFAULT_EXTERNAL, ...(options.external ?? [])],
      // CommonJS dependencies call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire as __keelCreateRequire } from 'node:module'; const require = __keelCreateRequire(import.meta.url);",
      },
      logLevel: 'silent',
      ...(options.alias ? { alias: options.alias } : {}),
      metafile: true,
    });
    const bytes = Object.values(built.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    return { file, bytes };
  } catch (error) {
    throw new E_BUILD_FAILED((error as Error).message).withCause(error);
  } finally {
    await rm(entry, { force: true });
  }
}
