import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDefinition } from '../kernel/index.js';
import type { ModuleManifest } from '../modules/index.js';
import { runCli } from './kernel-cli.js';

/** What a `keel build --bundle` entry hands over: everything is already imported. */
export interface BundledApp {
  root: URL | string;
  definition: AppDefinition;
  modules: Array<{ manifest: ModuleManifest; dir: string; file: string }>;
  appConfig: Record<string, Record<string, unknown>>;
  argv?: string[];
}

/**
 * Run a bundled application: `node server.mjs` serves it; `node server.mjs <command>` runs a
 * CLI command. Nothing is scanned or transpiled at boot.
 */
export async function runBundledApp(bundle: BundledApp): Promise<void> {
  const root = typeof bundle.root === 'string' ? bundle.root : fileURLToPath(bundle.root);
  const argv = bundle.argv ?? process.argv.slice(2);
  process.exitCode = await runCli({
    argv: argv.length === 0 ? ['serve'] : argv,
    cwd: root,
    bundle: {
      definition: bundle.definition,
      appConfig: bundle.appConfig,
      modules: bundle.modules.map((m) => ({
        manifest: m.manifest,
        dir: resolve(root, m.dir),
        file: resolve(root, m.file),
      })),
    },
  });
}
