import { fileURLToPath } from 'node:url';
import { AsyncSlot } from '../../support/async-slot.js';
import { currentDatabaseManager } from '../database-manager.js';
import { E_DB_N_PLUS_ONE } from '../errors.js';
import type { QueryEvent, QueryListener } from '../instrumented-dialect.js';

export type NPlusOneMode = 'off' | 'warn' | 'throw';

/** Where warnings go: the request's logger in HTTP, the app logger elsewhere. */
export interface QueryScopeLogger {
  warn(obj: object, msg: string): void;
}

export interface QueryScopeOptions {
  /** Default: `database.nPlusOne.mode` of the running app, else `warn`. */
  mode?: NPlusOneMode;
  /** Default: `database.nPlusOne.threshold`, else 5. */
  threshold?: number;
  /** Default: a process warning (`process.emitWarning`). */
  logger?: QueryScopeLogger;
  /** What the scope is, for the message: `GET /orders`, `job SendInvoice`. */
  name?: string;
}

/** One repeated query shape, as `trackQueries` reports it. */
export interface RepeatedQuery {
  sql: string;
  count: number;
  model: string | undefined;
  relation: string | undefined;
}

export interface QueryScopeReport {
  /** Every statement run in the scope, on any connection. */
  total: number;
  /** Select shapes that ran more than once, most repeated first. */
  repeated: RepeatedQuery[];
}

/** What a model query says about itself, so a warning can name the model and relation. */
export interface QueryTag {
  model?: string;
  relation?: string;
  /** Eager loading: one query per relation (chunked for huge IN lists), never N+1. */
  eager?: boolean;
}

interface ShapeState {
  count: number;
  model: string | undefined;
  relation: string | undefined;
}

interface ScopeState {
  readonly mode: NPlusOneMode;
  readonly threshold: number;
  readonly logger: QueryScopeLogger | undefined;
  readonly name: string | undefined;
  readonly shapes: Map<string, ShapeState>;
  readonly reported: Set<string>;
  total: number;
}

const scopes = new AsyncSlot<ScopeState>();
const tags = new AsyncSlot<QueryTag>();
/** Table → model name, so an untagged repeated query can still name its model. */
const modelsByTable = new Map<string, string>();

/** Remember which model reads a table (called when a model boots). */
export function registerModelTable(table: string, model: string): void {
  modelsByTable.set(table.toLowerCase(), model);
}

/** Run `fn` with its queries tagged (lazy relation loads, eager loads). */
export function withQueryTag<T>(tag: QueryTag, fn: () => T): T {
  return tags.run(tag, fn);
}

/**
 * The shape of a statement: its SQL with bound placeholders, literals and IN-list lengths
 * made alike, so `where id = $1` for id 1 and for id 2 count as the same query.
 */
export function queryShape(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\$\d+|\?|\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)*\s*\)/g, '(?)')
    .replace(/\s+/g, ' ')
    .trim();
}

const FRAMEWORK = fileURLToPath(new URL('../../', import.meta.url));

/** The first stack frame outside Keel and its dependencies: the code that ran the query. */
export function callSite(stack = captureStack()): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const frame = line.trim().replace(/^at\s+(?:async\s+)?/, '');
    const location = (/\(([^()]+)\)$/.exec(frame)?.[1] ?? frame).replace(/^file:\/\//, '');
    if (
      location.startsWith('node:') ||
      location.includes('/node_modules/') ||
      location === 'native' ||
      location.startsWith('<anonymous>') ||
      (location.startsWith(FRAMEWORK) && !/\.(?:test|spec)\.[cm]?[jt]s:/.test(location))
    )
      continue;
    return frame;
  }
  return undefined;
}

function captureStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack;
}

function tableOf(sql: string): string | undefined {
  const match = /\bfrom\s+((?:[`"]?\w+[`"]?\.)?[`"]?\w+[`"]?)/i.exec(sql);
  return match?.[1]?.replace(/[`"]/g, '');
}

function describe(scope: ScopeState, shape: string, state: ShapeState, site: string | undefined) {
  const where = `${scope.name ? ` in ${scope.name}` : ''}${site ? ` at ${site}` : ''}`;
  const limit = `more than ${scope.threshold} times`;
  if (state.model && state.relation)
    return `${state.model}.${state.relation} was loaded one model at a time, ${limit}${where}; eager load it with ${state.model}.query().with('${state.relation}') or ${state.model}.load(models, '${state.relation}'). Query: ${shape}`;
  const table = tableOf(shape);
  const model = state.model ?? (table ? modelsByTable.get(table.toLowerCase()) : undefined);
  const subject = model ? `${model} (${table})` : table ? `"${table}"` : 'one table';
  return `the same query on ${subject} ran ${limit}${where}. Query: ${shape}`;
}

/** Counts each select shape in the current scope and reports one past the threshold. */
const detector: QueryListener = (event: QueryEvent) => {
  const scope = scopes.get();
  if (!scope) return;
  scope.total++;
  if (event.operation !== 'select' || event.error !== undefined) return;
  const tag = tags.get();
  if (tag?.eager) return;
  const shape = queryShape(event.sql);
  const key = `${event.connection}\u0000${shape}`;
  let state = scope.shapes.get(key);
  if (!state) {
    state = { count: 0, model: tag?.model, relation: tag?.relation };
    scope.shapes.set(key, state);
  }
  state.count++;
  if (scope.mode === 'off' || state.count <= scope.threshold || scope.reported.has(key)) return;
  scope.reported.add(key);
  const site = callSite();
  const description = describe(scope, shape, state, site);
  if (scope.mode === 'throw') {
    // The connection rethrows listener errors marked `rethrow`: the query's caller fails.
    throw Object.assign(new E_DB_N_PLUS_ONE(description), { rethrow: true });
  }
  const details = {
    nPlusOne: {
      model: state.model,
      relation: state.relation,
      count: state.count,
      threshold: scope.threshold,
      callSite: site,
      sql: shape,
      scope: scope.name,
    },
  };
  if (scope.logger) scope.logger.warn(details, `N+1 query: ${description}`);
  else process.emitWarning(`N+1 query: ${description}`, { code: 'E_DB_N_PLUS_ONE' });
};

const watched = new WeakMap<object, () => void>();

/**
 * Feed the statements of a connection or manager to the N+1 detector (idempotent). The
 * DatabaseProvider watches the app's manager; `withQueryScope` watches the current one.
 */
export function watchQueries(target: { onQuery(listener: QueryListener): () => void }): () => void {
  let off = watched.get(target);
  if (!off) {
    const unsubscribe = target.onQuery(detector);
    off = () => {
      watched.delete(target);
      unsubscribe();
    };
    watched.set(target, off);
  }
  return off;
}

function scopeState(options: QueryScopeOptions): ScopeState {
  const manager = currentDatabaseManager();
  if (manager) watchQueries(manager);
  const defaults = manager?.config.nPlusOne;
  const threshold = options.threshold ?? defaults?.threshold ?? 5;
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new TypeError(`N+1 threshold must be a positive integer, got ${threshold}`);
  return {
    mode: options.mode ?? defaults?.mode ?? 'warn',
    threshold,
    logger: options.logger,
    name: options.name,
    shapes: new Map(),
    reported: new Set(),
    total: 0,
  };
}

/**
 * Run `fn` as one unit of work (an HTTP request, a job) for N+1 detection: a select shape
 * repeated more than `threshold` times inside it is logged (`warn`) or fails (`throw`).
 *
 * @example
 * ```ts
 * await withQueryScope(() => handleJob(job), { name: `job ${job.name}`, logger });
 * ```
 */
export async function withQueryScope<T>(
  fn: () => T | Promise<T>,
  options: QueryScopeOptions = {},
): Promise<T> {
  const state = scopeState(options);
  return scopes.run(state, async () => fn());
}

/**
 * Like `withQueryScope`, and also report what ran: the statement count and the repeated
 * select shapes (for tests and diagnostics).
 *
 * @example
 * ```ts
 * const { report } = await trackQueries(() => listOrders(), { mode: 'throw', threshold: 3 });
 * expect(report.repeated).toEqual([]);
 * ```
 */
export async function trackQueries<T>(
  fn: () => T | Promise<T>,
  options: QueryScopeOptions = {},
): Promise<{ result: T; report: QueryScopeReport }> {
  const state = scopeState(options);
  const result = await scopes.run(state, async () => fn());
  const repeated = [...state.shapes]
    .filter(([, shape]) => shape.count > 1)
    .map(([key, shape]) => ({
      sql: key.slice(key.indexOf('\u0000') + 1),
      count: shape.count,
      model: shape.model,
      relation: shape.relation,
    }))
    .sort((a, b) => b.count - a.count);
  return { result, report: { total: state.total, repeated } };
}

/** The request a scope middleware needs: a logger and what to call the scope. */
export interface QueryScopeContext {
  readonly method: string;
  readonly path: string;
  readonly logger: QueryScopeLogger;
}

/**
 * HTTP middleware running each request in its own query scope (registered globally by the
 * DatabaseProvider outside production).
 */
export function queryScopeMiddleware(
  options: Pick<QueryScopeOptions, 'mode' | 'threshold'> = {},
): (ctx: QueryScopeContext, next: () => Promise<void>) => Promise<void> {
  return function queryScope(ctx, next) {
    return withQueryScope(() => next(), {
      ...options,
      logger: ctx.logger,
      name: `${ctx.method} ${ctx.path}`,
    });
  };
}
