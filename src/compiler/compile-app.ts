import { join, relative, sep } from 'node:path';
import type { Application } from '../kernel/index.js';
import { findAppFile } from '../kernel/index.js';
import { isPlainObject } from '../support/index.js';
import {
  ARTIFACT_FORMAT,
  type ConfigArtifact,
  type ContainerArtifact,
  type EventsArtifact,
  type ModulesArtifact,
} from './artifacts.js';
import { E_SECRET_IN_ARTIFACT } from './errors.js';
import { fingerprintSources } from './source-fingerprint.js';
import { stableStringify, writeIfChanged } from './stable-json.js';

export interface CompileResult {
  sources: string;
  /** Artifact name → whether its bytes changed. */
  written: Record<string, boolean>;
  configComplete: boolean;
}

const SECRET_KEY = /(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|app_?key)$/i;

function posix(path: string): string {
  return path.split(sep).join('/');
}

/** The fingerprint of an application's sources, as recorded in its artifacts. */
export function appSourcesFingerprint(app: Pick<Application, 'paths'>): Promise<string> {
  let definitionFile: string[] = [];
  try {
    definitionFile = [findAppFile(app.paths.root)];
  } catch {
    definitionFile = [];
  }
  return fingerprintSources(app.paths.root, [app.paths.config, app.paths.modules], definitionFile, {
    statCache: join(app.paths.cache, '.sources-stat'),
  });
}

/**
 * Make config JSON-safe for the artifact. Env references stay as references; a literal
 * value under a secret-looking key is refused, so a secret never lands in var/cache.
 */
function toArtifactConfig(value: unknown, path: string[], state: { complete: boolean }): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    if (typeof value === 'string' && value !== '' && SECRET_KEY.test(path.at(-1) ?? '')) {
      throw new E_SECRET_IN_ARTIFACT('config.json', path.join('.'));
    }
    return value;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value))
    return value.map((v, i) => toArtifactConfig(v, [...path, String(i)], state));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value))
      out[key] = toArtifactConfig(value[key], [...path, key], state);
    return out;
  }
  state.complete = false;
  return null;
}

/**
 * Write `var/cache/{modules,config,events,container}.json` for a registered application.
 * Files are only rewritten when their bytes change.
 *
 * @example
 * ```ts
 * const app = await Application.create({ root, environment: 'console' });
 * app.register();
 * await compileApp(app);
 * ```
 */
export async function compileApp(app: Application): Promise<CompileResult> {
  const sources = await appSourcesFingerprint(app);
  const root = app.paths.root;

  const modules: ModulesArtifact = {
    format: ARTIFACT_FORMAT,
    sources,
    modules: app.discovered.map((m) => ({
      name: m.manifest.name,
      version: m.manifest.version,
      ...(m.manifest.description ? { description: m.manifest.description } : {}),
      dependsOn: { ...(m.manifest.dependsOn ?? {}) },
      dir: posix(relative(root, m.dir)),
      file: posix(relative(root, m.file)),
      ...(m.manifest.migrations ? { migrations: m.manifest.migrations } : {}),
      ...(m.manifest.seeders ? { seeders: m.manifest.seeders } : {}),
      ...(m.manifest.views ? { views: m.manifest.views } : {}),
    })),
  };

  const state = { complete: true };
  const unresolved = { ...app.config.unresolved() } as Record<string, unknown>;
  // The framework namespace is rebuilt from the env at every boot; it is not compiled.
  delete unresolved.app;
  delete unresolved.logger;
  const config: ConfigArtifact = {
    format: ARTIFACT_FORMAT,
    sources,
    complete: true,
    config: toArtifactConfig(unresolved, [], state) as Record<string, unknown>,
  };
  config.complete = state.complete;

  const events: EventsArtifact = { format: ARTIFACT_FORMAT, sources, events: {} };
  for (const info of app.events.listeners()) {
    events.events[info.event] ??= [];
    events.events[info.event]!.push({
      ...(info.module ? { module: info.module } : {}),
      name: info.name,
      priority: info.priority,
      once: info.once,
    });
  }

  const container: ContainerArtifact = {
    format: ARTIFACT_FORMAT,
    sources,
    bindings: app.container.describe(),
    providers: app.providers().map((p) => ({
      name: p.name,
      ...(p.module ? { module: p.module } : {}),
      deferred: p.deferred,
    })),
  };

  const cache = app.paths.cache;
  const written: Record<string, boolean> = {};
  for (const [name, produce] of app.artifacts) {
    const artifact = { format: ARTIFACT_FORMAT, sources, [name]: await produce() };
    written[`${name}.json`] = await writeIfChanged(
      join(cache, `${name}.json`),
      stableStringify(artifact),
    );
  }
  for (const [name, artifact] of [
    ['modules.json', modules],
    ['config.json', config],
    ['events.json', events],
    ['container.json', container],
  ] as const) {
    written[name] = await writeIfChanged(join(cache, name), stableStringify(artifact));
  }
  return { sources, written, configComplete: state.complete };
}
