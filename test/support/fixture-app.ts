import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the framework's source entry, for fixture files to import. */
export const KEEL_SRC = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

export interface FixtureApp {
  root: string;
  write(path: string, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A throwaway application folder. `files` maps relative paths to contents; `{{keel}}` in a
 * file is replaced by the path of Keel's source entry.
 */
export async function createFixtureApp(
  files: Record<string, string>,
  prefix = 'keel-app-',
): Promise<FixtureApp> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const write = async (path: string, content: string): Promise<void> => {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content.replaceAll('{{keel}}', KEEL_SRC));
  };
  for (const [path, content] of Object.entries(files)) await write(path, content);
  return { root, write, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A module file importing defineModule from Keel's source. */
export function moduleFile(body: string): string {
  return `import { defineModule } from '{{keel}}';\nexport default defineModule(${body});\n`;
}

export const APP_FILE = `import { defineApp } from '{{keel}}';\nexport default defineApp({ name: 'fixture' });\n`;
