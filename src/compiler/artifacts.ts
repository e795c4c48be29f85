import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { E_COMPILED_CORRUPT } from './errors.js';

/** Version of the artifact format; a different number means "recompile". */
export const ARTIFACT_FORMAT = 1;

export interface CompiledModule {
  name: string;
  version: string;
  description?: string;
  dependsOn: Record<string, string>;
  /** Folder and manifest file, relative to the app root, with `/` separators. */
  dir: string;
  file: string;
  migrations?: string;
  seeders?: string;
  views?: string;
}

export interface ModulesArtifact {
  format: number;
  sources: string;
  modules: CompiledModule[];
}

export interface ConfigArtifact {
  format: number;
  sources: string;
  /** False when a config value is not JSON (a function, a class): boot then loads the files. */
  complete: boolean;
  /** Merged module and app config, env references unresolved. */
  config: Record<string, unknown>;
}

export interface EventsArtifact {
  format: number;
  sources: string;
  events: Record<string, Array<{ module?: string; name: string; priority: number; once: boolean }>>;
}

export interface ContainerArtifact {
  format: number;
  sources: string;
  bindings: Array<{ key: string; lifetime: string; alias?: string }>;
  providers: Array<{ name: string; module?: string; deferred: boolean }>;
}

export interface ArtifactMap {
  'modules.json': ModulesArtifact;
  'config.json': ConfigArtifact;
  'events.json': EventsArtifact;
  'container.json': ContainerArtifact;
}

export type ArtifactName = keyof ArtifactMap;
export const ARTIFACT_NAMES: readonly ArtifactName[] = [
  'modules.json',
  'config.json',
  'events.json',
  'container.json',
];

/** Read one artifact; undefined when absent, an error when unreadable. */
export async function readArtifact<N extends ArtifactName>(
  cacheDir: string,
  name: N,
): Promise<ArtifactMap[N] | undefined> {
  const file = join(cacheDir, name);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new E_COMPILED_CORRUPT(file, (error as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new E_COMPILED_CORRUPT(file, (error as Error).message);
  }
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    typeof (parsed as { sources?: unknown }).sources !== 'string'
  ) {
    throw new E_COMPILED_CORRUPT(file, 'missing "sources" fingerprint');
  }
  return parsed as ArtifactMap[N];
}
