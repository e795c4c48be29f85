import { constants, existsSync } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  ARTIFACT_FORMAT,
  ARTIFACT_NAMES,
  appSourcesFingerprint,
  type CompiledMode,
  type ModulesArtifact,
  planCompiledBoot,
  readArtifact,
} from '../../compiler/index.js';
import {
  type DiscoveredModule,
  discoverModules,
  ModuleGraph,
  type ModuleState,
  ModuleStateStore,
} from '../../modules/index.js';
import { isKeelError } from '../../support/index.js';
import { loadAppDefinition } from '../app-loader.js';
import { type AppPaths, resolveAppPaths } from '../app-paths.js';
import { Application } from '../application.js';
import type { CommandContext } from '../command.js';
import { type CommandUI, defineCommand } from '../command.js';
import type { AppDefinition } from '../define-app.js';
import {
  type AppEnv,
  baseEnvSchema,
  E_ENV_FILE_INVALID,
  E_ENV_INVALID,
  type EnvIssue,
  loadEnvFiles,
  lookupAppEnv,
  parseAppKey,
  validateEnv,
} from '../env/index.js';
import { createNullLogger } from '../logger.js';
import { registerTypeScriptLoader } from '../ts-loader.js';
import { varFolders } from './setup-permissions-command.js';

export type HealthStatus = 'ok' | 'warn' | 'fail';

/** The outcome of one check. */
export interface HealthCheckResult {
  name: string;
  status: HealthStatus;
  message: string;
  /** One line per problem found, when there are several. */
  details?: string[];
  /** How long it took: the checks subsystems register in `app.health` (run after boot). */
  latencyMs?: number;
  /** What a registered check reported beside its message (its `details`: counts, sizes, ...). */
  data?: Record<string, unknown>;
}

/** What `health:check --json` prints. */
export interface HealthReport {
  /** False when any check failed. */
  ok: boolean;
  env: string;
  checks: HealthCheckResult[];
  summary: Record<HealthStatus, number>;
}

export interface HealthCheckOptions {
  /** The process environment to read; `process.env` by default. */
  processEnv?: Record<string, string | undefined>;
  /** The CLI's application factory (framework providers included), for the boot check. */
  createApp?: CommandContext['createApp'];
}

/** What the checks share: each one adds to it what the later ones need. */
interface Probe {
  root: string;
  processEnv: Record<string, string | undefined>;
  createApp?: CommandContext['createApp'];
  definition?: AppDefinition;
  paths: AppPaths;
  appEnv: AppEnv;
  raw: Record<string, string>;
}

const DEPLOYED: readonly AppEnv[] = ['production', 'staging'];

/**
 * Check that an application can run: env, APP_KEY, var folders, compiled caches, module
 * state and graph, and a real boot. Never throws for a broken application: every problem
 * is a failed check.
 *
 * @example
 * ```ts
 * const report = await runHealthChecks('/srv/erp');
 * if (!report.ok) console.error(report.checks.filter((c) => c.status === 'fail'));
 * ```
 */
export async function runHealthChecks(
  root: string,
  options: HealthCheckOptions = {},
): Promise<HealthReport> {
  const probe: Probe = {
    root: resolve(root),
    processEnv: options.processEnv ?? process.env,
    ...(options.createApp ? { createApp: options.createApp } : {}),
    paths: resolveAppPaths(root),
    appEnv: 'development',
    raw: {},
  };
  const checks: HealthCheckResult[] = [];
  for (const [name, check] of CHECKS) {
    try {
      const result = await check(probe);
      if (Array.isArray(result)) checks.push(...result);
      else if (result) checks.push(result);
    } catch (error) {
      // A check that crashes is a finding too, never the end of the report.
      checks.push({ name, status: 'fail', message: errorLine(error) });
    }
  }
  const summary: Record<HealthStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return { ok: summary.fail === 0, env: probe.appEnv, checks, summary };
}

async function checkDefinition(probe: Probe): Promise<HealthCheckResult> {
  try {
    const { file, definition } = await loadAppDefinition(probe.root);
    probe.definition = definition;
    probe.paths = resolveAppPaths(probe.root, {
      ...(definition.modules ? { modules: definition.modules } : {}),
      ...(definition.config ? { config: definition.config } : {}),
    });
    return {
      name: 'app',
      status: 'ok',
      message: `${relative(probe.root, file)} defines "${definition.name}"`,
    };
  } catch (error) {
    return { name: 'app', status: 'fail', message: errorLine(error) };
  }
}

async function checkEnv(probe: Probe): Promise<HealthCheckResult> {
  try {
    probe.raw = loadEnvFiles({ cwd: probe.root, processEnv: probe.processEnv });
  } catch (error) {
    if (!E_ENV_FILE_INVALID.is(error)) throw error;
    const problems = (error.details?.problems ?? []) as Array<{ line: number; message: string }>;
    return {
      name: 'env',
      status: 'fail',
      message: firstLine(error.message),
      details: problems.map((p) => `line ${p.line}: ${p.message}`),
    };
  }
  const declared = probe.raw.APP_ENV;
  probe.appEnv = (declared ? lookupAppEnv(declared) : undefined) ?? 'development';
  const extra = probe.definition?.env;
  const schema = extra ? baseEnvSchema.extend(extra as never) : baseEnvSchema;
  let issues: EnvIssue[] = [];
  try {
    validateEnv(probe.raw, schema);
  } catch (error) {
    if (!E_ENV_INVALID.is(error)) throw error;
    // APP_KEY has its own check, which says more about it.
    issues = ((error.details?.issues ?? []) as EnvIssue[]).filter(
      (issue) => issue.key !== 'APP_KEY',
    );
  }
  if (issues.length > 0)
    return {
      name: 'env',
      status: 'fail',
      message: `${issues.length} invalid variable${issues.length === 1 ? '' : 's'}: ${issues.map((i) => i.key).join(', ')}`,
      details: issues.map((i) => `${i.key}: ${i.message}`),
    };
  return { name: 'env', status: 'ok', message: `valid (APP_ENV=${probe.appEnv})` };
}

async function checkAppKey(probe: Probe): Promise<HealthCheckResult> {
  const key = probe.raw.APP_KEY;
  const required = DEPLOYED.includes(probe.appEnv);
  if (key === undefined || key.trim() === '')
    return required
      ? {
          name: 'app-key',
          status: 'fail',
          message: `APP_KEY is not set; it is required in ${probe.appEnv}`,
        }
      : {
          name: 'app-key',
          status: 'warn',
          message: 'APP_KEY is not set (run `keel setup:install` to generate one)',
        };
  try {
    parseAppKey(key);
    return { name: 'app-key', status: 'ok', message: 'APP_KEY is set and valid' };
  } catch (error) {
    return { name: 'app-key', status: 'fail', message: errorLine(error) };
  }
}

async function checkVarFolders(probe: Probe): Promise<HealthCheckResult> {
  const missing: string[] = [];
  const unwritable: string[] = [];
  const modes: string[] = [];
  for (const { path, mode } of varFolders(probe.root)) {
    const name = relative(probe.root, path);
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      missing.push(name);
      continue;
    }
    if (!info.isDirectory()) {
      unwritable.push(`${name} is not a folder`);
      continue;
    }
    const writable = await access(path, constants.W_OK).then(
      () => true,
      () => false,
    );
    if (!writable) unwritable.push(`${name} is not writable`);
    if ((info.mode & 0o777) !== mode)
      modes.push(
        `${name} has mode ${(info.mode & 0o777).toString(8)}, expected ${mode.toString(8)}`,
      );
  }
  const fix = ' (run `keel setup:permissions`)';
  if (unwritable.length > 0)
    return {
      name: 'var-folders',
      status: 'fail',
      message: `${unwritable.length} folder(s) unusable${fix}`,
      details: [...unwritable, ...modes],
    };
  if (missing.length > 0)
    return {
      name: 'var-folders',
      // Development creates what it needs on first write; a deployment should be prepared.
      status: DEPLOYED.includes(probe.appEnv) ? 'fail' : 'warn',
      message: `missing: ${missing.join(', ')}${fix}`,
      ...(modes.length > 0 ? { details: modes } : {}),
    };
  if (modes.length > 0)
    return { name: 'var-folders', status: 'warn', message: `modes differ${fix}`, details: modes };
  return {
    name: 'var-folders',
    status: 'ok',
    message: 'present, writable, with the expected modes',
  };
}

async function checkCompiled(probe: Probe): Promise<HealthCheckResult> {
  const production = probe.appEnv === 'production';
  const artifacts = new Map<string, { sources: string; format?: number }>();
  for (const name of ARTIFACT_NAMES) {
    const artifact = await readArtifact(probe.paths.cache, name);
    if (artifact) artifacts.set(name, artifact as { sources: string; format?: number });
  }
  // Providers add artifacts of their own (routes, ...): any JSON file with a fingerprint.
  for (const name of (await readdir(probe.paths.cache).catch(() => [] as string[])).sort()) {
    if (!name.endsWith('.json') || artifacts.has(name)) continue;
    const extra = await readFile(join(probe.paths.cache, name), 'utf8')
      .then((text) => JSON.parse(text) as { sources?: unknown; format?: number })
      .catch(() => undefined);
    if (typeof extra?.sources === 'string') artifacts.set(name, extra as { sources: string });
  }
  if (artifacts.size === 0)
    return production
      ? {
          name: 'compiled',
          status: 'fail',
          message: 'no compiled artifacts: production boot requires them (run `keel compile`)',
        }
      : { name: 'compiled', status: 'ok', message: 'not compiled: boot scans the sources' };
  const current = await appSourcesFingerprint({ paths: probe.paths });
  const stale = [...artifacts]
    .filter(([, a]) => a.sources !== current || a.format !== ARTIFACT_FORMAT)
    .map(([name]) => name);
  const missing = ARTIFACT_NAMES.filter((name) => !artifacts.has(name));
  if (stale.length === 0 && missing.length === 0)
    return {
      name: 'compiled',
      status: 'ok',
      message: `fresh (${artifacts.size} artifacts, sources ${current.slice(0, 12)})`,
    };
  return {
    name: 'compiled',
    status: production ? 'fail' : 'warn',
    message:
      stale.length > 0
        ? 'stale: sources changed since `keel compile` (run it again)'
        : 'incomplete: run `keel compile`',
    details: [
      ...stale.map((name) => `var/cache/${name} is stale`),
      ...missing.map((name) => `var/cache/${name} is missing`),
    ],
  };
}

async function checkModules(probe: Probe): Promise<HealthCheckResult> {
  const name = 'modules';
  const store = new ModuleStateStore(join(probe.paths.state, 'modules.json'));
  let state: ModuleState;
  try {
    state = await store.read();
  } catch (error) {
    return { name, status: 'fail', message: errorLine(error) };
  }
  await registerTypeScriptLoader();
  let discovered: DiscoveredModule[];
  try {
    discovered = await discoverModules(probe.paths.modules, { allowMissing: true });
  } catch (error) {
    return { name, status: 'fail', message: errorLine(error) };
  }
  const enableNew = probe.definition?.enableNewModules ?? true;
  const enabled = discovered
    .map((m) => m.manifest.name)
    .filter((module) => state.modules[module]?.enabled ?? enableNew);
  const failures = new ModuleGraph(discovered, { enabled }).problems().map((p) => p.message);
  const compiled = (await readArtifact(probe.paths.cache, 'modules.json').catch(() => undefined)) as
    | ModulesArtifact
    | undefined;
  for (const entry of compiled?.modules ?? []) {
    if (!existsSync(resolve(probe.root, entry.file)))
      failures.push(`var/cache/modules.json lists ${entry.file}, which does not exist`);
  }
  const known = new Set(discovered.map((m) => m.manifest.name));
  const warnings = Object.entries(state.modules)
    .filter(([module, entry]) => entry.enabled && !known.has(module))
    .map(([module]) => `"${module}" is enabled in var/state/modules.json but not found on disk`);
  for (const module of discovered) {
    const installed = state.modules[module.manifest.name]?.installedVersion;
    if (enabled.includes(module.manifest.name) && installed !== module.manifest.version)
      warnings.push(
        `"${module.manifest.name}" ${installed ? `is installed at ${installed}, found ${module.manifest.version}` : 'was never set up'} (run \`keel setup:update\`)`,
      );
  }
  if (failures.length > 0)
    return {
      name,
      status: 'fail',
      message: `${failures.length} problem(s) in the module graph`,
      details: [...failures, ...warnings],
    };
  if (warnings.length > 0)
    return {
      name,
      status: 'warn',
      message: `${enabled.length} of ${discovered.length} enabled; setup pending`,
      details: warnings,
    };
  return {
    name,
    status: 'ok',
    message: `${enabled.length} of ${discovered.length} enabled, all installed, graph valid`,
  };
}

async function checkBoot(
  probe: Probe,
): Promise<HealthCheckResult | HealthCheckResult[] | undefined> {
  if (!probe.definition) return undefined;
  const mode: CompiledMode = probe.appEnv === 'production' ? 'require' : 'auto';
  let app: Application | undefined;
  try {
    const plan = await planCompiledBoot(probe.root, mode, {
      ...(probe.definition.modules ? { modules: probe.definition.modules } : {}),
      ...(probe.definition.config ? { config: probe.definition.config } : {}),
    });
    const extra = {
      processEnv: probe.processEnv,
      // A report prints nothing but itself, whatever providers log while booting.
      logger: createNullLogger(),
      ...plan.options,
    };
    app = probe.createApp
      ? await probe.createApp(extra)
      : await Application.create({ root: probe.root, environment: 'console', ...extra });
    await app.boot();
    const boot: HealthCheckResult = {
      name: 'boot',
      status: 'ok',
      message: `booted ${app.modules.length} module(s) (${plan.mode}: ${plan.reason})`,
    };
    // What subsystems registered once booted: database connections, Redis, ...
    const runs = await app.health.run();
    return [
      boot,
      ...runs.map(
        (run): HealthCheckResult => ({
          name: run.name,
          status: run.status,
          message: `${run.message} (${run.latencyMs} ms)`,
          latencyMs: run.latencyMs,
          ...(run.details ? { data: run.details } : {}),
        }),
      ),
    ];
  } catch (error) {
    const causes: string[] = [];
    for (let cause = (error as Error).cause; cause !== undefined; cause = (cause as Error).cause)
      causes.push(`cause: ${errorLine(cause)}`);
    return {
      name: 'boot',
      status: 'fail',
      message: errorLine(error),
      ...(causes.length > 0 ? { details: causes } : {}),
    };
  } finally {
    await app?.shutdown('health check finished').catch(() => undefined);
  }
}

/** The checks in the order they run; later ones read what earlier ones found. */
const CHECKS: ReadonlyArray<
  [string, (probe: Probe) => Promise<HealthCheckResult | HealthCheckResult[] | undefined>]
> = [
  ['app', checkDefinition],
  ['env', checkEnv],
  ['app-key', checkAppKey],
  ['var-folders', checkVarFolders],
  ['compiled', checkCompiled],
  ['modules', checkModules],
  ['boot', checkBoot],
];

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function errorLine(error: unknown): string {
  const message = firstLine(error instanceof Error ? error.message : String(error));
  return isKeelError(error) ? `${error.code}: ${message}` : message;
}

const ICONS: Record<HealthStatus, string> = { ok: '✔', warn: '⚠', fail: '✖' };

function render(ui: CommandUI, report: HealthReport): void {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const check of report.checks) {
    const paint = (text: string): string =>
      check.status === 'ok'
        ? ui.green(text)
        : check.status === 'warn'
          ? ui.yellow(text)
          : ui.red(text);
    ui.line(
      `${paint(`${ICONS[check.status]} ${check.status.padEnd(4)}`)} ${check.name.padEnd(width)}  ${check.message}`,
    );
    for (const detail of check.details ?? [])
      ui.line(ui.dim(`       ${' '.repeat(width)}  - ${detail}`));
  }
  const { ok, warn, fail } = report.summary;
  ui.line();
  const text = `${ok} ok, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failure${fail === 1 ? '' : 's'} (APP_ENV=${report.env})`;
  if (report.ok) ui.success(text);
  else ui.error(text);
}

export const healthCheckCommand = defineCommand({
  name: 'health:check',
  aliases: ['doctor', 'sys:check'],
  description:
    'Check env, APP_KEY, var folders, compiled caches, modules, boot and every registered health check; exit 1 on failure',
  needs: 'nothing',
  json: true,
  async handle({ cwd, ui, createApp, processEnv }) {
    const report = await runHealthChecks(cwd, {
      ...(createApp ? { createApp } : {}),
      ...(processEnv ? { processEnv: { ...processEnv } } : {}),
    });
    ui.output(report, () => render(ui, report));
    return report.ok ? 0 : 1;
  },
});
