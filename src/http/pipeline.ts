import { suggest } from '../support/index.js';
import { createRequestValidator } from '../validation/index.js';
import type { HttpContext } from './context.js';
import {
  E_INVALID_MIDDLEWARE,
  E_MIDDLEWARE_GROUP_NOT_FOUND,
  E_MIDDLEWARE_NOT_FOUND,
  E_NEXT_CALLED_TWICE,
} from './errors.js';
import { mountHandler } from './fetch-adapter.js';
import { writeResult } from './result-writer.js';
import type {
  MiddlewareFn,
  MiddlewareRef,
  Next,
  RouteRecord,
  TerminatingMiddleware,
} from './types.js';

/** Builds a middleware from the arguments of its alias (`'throttle:60,60'` → `['60', '60']`). */
export type MiddlewareFactory = (args: string[]) => MiddlewareFn | TerminatingMiddleware;

/** A route ready to serve: its middleware, validation and handler composed into one function. */
export interface CompiledRoute {
  readonly record: RouteRecord;
  /** Runs the whole chain and writes the response; a promise only when something awaited. */
  readonly run: (ctx: HttpContext) => void | Promise<void>;
  /** Terminating middleware, called after the response finished. */
  readonly terminators: readonly TerminatingMiddleware[];
  /** Middleware names in order, for `routes:list` and the compiled routes artifact. */
  readonly middlewareNames: readonly string[];
}

interface Entry {
  ref: MiddlewareRef;
  priority: number;
  order: number;
}

function isTerminating(value: unknown): value is TerminatingMiddleware {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TerminatingMiddleware).handle === 'function'
  );
}

function routeLabel(record: RouteRecord): string {
  return `${record.methods.join('|')} ${record.path}`;
}

/**
 * Global middleware, named aliases and groups. Each route's chain is composed once, at
 * boot: sorting, alias resolution and validator construction never happen per request.
 */
export class MiddlewareRegistry {
  readonly #named = new Map<string, { factory: MiddlewareFactory; priority: number }>();
  readonly #groups = new Map<string, Entry[]>();
  readonly #global: Entry[] = [];
  #order = 0;

  /**
   * Register a named middleware usable as `'name'` or `'name:arg1,arg2'`.
   *
   * @example
   * ```ts
   * registry.register('throttle', ([max, window]) => throttle(Number(max), Number(window)));
   * registry.register('auth', () => authenticate);
   * ```
   */
  register(name: string, factory: MiddlewareFactory, options: { priority?: number } = {}): this {
    if (typeof factory !== 'function')
      throw new E_INVALID_MIDDLEWARE(`factory for "${name}" is not a function`);
    this.#named.set(name, { factory, priority: options.priority ?? 0 });
    return this;
  }

  /** Run `ref` for every route. Higher priority runs earlier (outer). */
  use(ref: MiddlewareRef, options: { priority?: number } = {}): this {
    this.#global.push({ ref, priority: options.priority ?? 0, order: this.#order++ });
    return this;
  }

  /** Define (or extend) a middleware group such as `web` or `api`. */
  group(name: string, refs: MiddlewareRef[], options: { priority?: number } = {}): this {
    const entries = this.#groups.get(name) ?? [];
    for (const ref of refs)
      entries.push({ ref, priority: options.priority ?? 0, order: this.#order++ });
    this.#groups.set(name, entries);
    return this;
  }

  has(name: string): boolean {
    return this.#named.has(name);
  }

  #resolve(
    ref: MiddlewareRef,
    record: RouteRecord,
  ): { fn: MiddlewareFn; terminating?: TerminatingMiddleware; name: string; priority?: number } {
    if (typeof ref === 'function') return { fn: ref, name: ref.name || '<anonymous>' };
    if (isTerminating(ref))
      return {
        fn: ref.handle.bind(ref),
        terminating: ref,
        name: ref.handle.name || '<terminating>',
      };
    if (typeof ref !== 'string') throw new E_INVALID_MIDDLEWARE(String(ref));
    const colon = ref.indexOf(':');
    const name = colon === -1 ? ref : ref.slice(0, colon);
    const args =
      colon === -1
        ? []
        : ref
            .slice(colon + 1)
            .split(',')
            .map((a) => a.trim());
    const named = this.#named.get(name);
    if (!named)
      throw new E_MIDDLEWARE_NOT_FOUND(name, routeLabel(record), suggest(name, this.#named.keys()));
    const built = named.factory(args);
    if (typeof built === 'function') return { fn: built, name: ref, priority: named.priority };
    if (isTerminating(built))
      return {
        fn: built.handle.bind(built),
        terminating: built,
        name: ref,
        priority: named.priority,
      };
    throw new E_INVALID_MIDDLEWARE(`"${ref}" factory returned ${typeof built}`);
  }

  /** Compose a route: global → groups → route middleware (stable by priority), validation, handler. */
  compile(record: RouteRecord): CompiledRoute {
    const entries: Entry[] = [...this.#global];
    for (const group of record.groups) {
      const members = this.#groups.get(group);
      if (!members) throw new E_MIDDLEWARE_GROUP_NOT_FOUND(group, routeLabel(record));
      entries.push(...members);
    }
    let order = 1_000_000;
    for (const ref of record.middleware) entries.push({ ref, priority: 0, order: order++ });

    const resolved = entries.map((entry) => {
      const r = this.#resolve(entry.ref, record);
      return { ...r, priority: r.priority ?? entry.priority, order: entry.order };
    });
    // Stable: equal priorities keep declaration order (global, group, route).
    resolved.sort((a, b) => b.priority - a.priority || a.order - b.order);

    const fns = resolved.map((r) => r.fn);
    const terminators = resolved.flatMap((r) => (r.terminating ? [r.terminating] : []));
    const label = routeLabel(record);
    const inner = compileHandler(record);
    const run = composeChain(fns, inner, label);
    return { record, run, terminators, middlewareNames: resolved.map((r) => r.name) };
  }
}

/** Validation (when the route has schemas) then the handler and the result writer. */
function compileHandler(record: RouteRecord): (ctx: HttpContext) => void | Promise<void> {
  const handler = record.mount ? mountHandler(record.mount, record.path) : record.handler;
  // Synchronous handlers answer without a promise: no async frame on the hot path.
  const respond = (ctx: HttpContext): void | Promise<void> => {
    const result = handler(ctx);
    if (result instanceof Promise) return result.then((value) => writeUnlessSent(ctx, value));
    return writeUnlessSent(ctx, result);
  };
  const schemas = record.schemas;
  if (!schemas || Object.keys(schemas).length === 0) return respond;
  const validate = createRequestValidator(schemas);
  const needsBody = schemas.body !== undefined;
  const needsQuery = schemas.query !== undefined;
  // Validated routes avoid async frames too: one promise for the body (when the route has
  // a body schema), then validation, handler and writer run synchronously when they can.
  const check = (ctx: HttpContext, body: unknown): void | Promise<void> => {
    // The query is parsed only for routes that validate it.
    const validated = validate({
      params: ctx.params,
      query: needsQuery ? ctx.query : undefined,
      body,
      headers: ctx.headers,
    });
    if (validated instanceof Promise) {
      return validated.then((value) => {
        ctx.validated = value as HttpContext['validated'];
        return respond(ctx);
      });
    }
    ctx.validated = validated as HttpContext['validated'];
    return respond(ctx);
  };
  // One function per route, handed the context by the reader: no closure per request.
  const checkBody = (body: unknown, ctx: HttpContext): void | Promise<void> => check(ctx, body);
  return needsBody ? (ctx) => ctx.bodyReader.read(checkBody, ctx) : (ctx) => check(ctx, undefined);
}

function writeUnlessSent(ctx: HttpContext, value: unknown): void | Promise<void> {
  if (!ctx.sent) return writeResult(ctx, value);
}

/** Compose onion middleware around `inner` once; per request only the `next` closures are made. */
export function composeChain(
  fns: readonly MiddlewareFn[],
  inner: (ctx: HttpContext) => void | Promise<void>,
  label = 'route',
): (ctx: HttpContext) => void | Promise<void> {
  if (fns.length === 0) return inner;
  let chain: (ctx: HttpContext) => void | Promise<void> = inner;
  for (let i = fns.length - 1; i >= 0; i--) {
    const fn = fns[i]!;
    const next = chain;
    // No async wrapper per layer: the middleware's own promise is the layer's result, so a
    // chain of N middleware costs N promises, not 2N.
    chain = (ctx) => {
      let called = false;
      const proceed: Next = () => {
        if (called) return Promise.reject(new E_NEXT_CALLED_TWICE(label));
        called = true;
        // `next` may be synchronous: a throw must still reach `next().catch(...)`.
        try {
          return Promise.resolve(next(ctx));
        } catch (error) {
          return Promise.reject(error);
        }
      };
      const out = fn(ctx, proceed);
      return out instanceof Promise ? (out as Promise<void>) : undefined;
    };
  }
  return chain;
}
