import type { BodyOptions } from '../body/index.js';
import type { MiddlewareRef, RouteRecord, RouteSchemas } from '../types.js';
import { E_INVALID_ROUTE } from './errors.js';
import { withPattern } from './route-path.js';

const NAME = /^[^\s]{1,200}$/;

/** Check a middleware list at declaration, so a typo fails at boot with the route's path. */
export function checkMiddleware(path: string, refs: readonly unknown[]): MiddlewareRef[] {
  return refs.map((ref, index) => {
    if (typeof ref === 'function') return ref as MiddlewareRef;
    if (typeof ref === 'string' && ref.trim() !== '') return ref;
    if (
      typeof ref === 'object' &&
      ref !== null &&
      typeof (ref as { handle?: unknown }).handle === 'function'
    ) {
      return ref as MiddlewareRef;
    }
    throw new E_INVALID_ROUTE(
      path,
      `middleware #${index + 1} is ${ref === null ? 'null' : typeof ref}, not a function, { handle } object or name`,
    );
  });
}

/** Check a route name (no whitespace, at most 200 characters). */
export function checkName(path: string, name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new E_INVALID_ROUTE(
      path,
      `the name ${JSON.stringify(name)} is empty, too long or has spaces`,
    );
  }
  return name;
}

/**
 * Fluent settings of one declared route. Every call edits the route's record in place and
 * returns the builder.
 *
 * @example
 * ```ts
 * router
 *   .get('/products/:id', show)
 *   .where('id', /^\d+$/)
 *   .name('products.show')
 *   .middleware(['auth'])
 *   .validate({ query: z.object({ fields: z.string().optional() }) });
 * ```
 */
export class RouteBuilder {
  /** The record this builder edits; the router hands it to the route table. */
  readonly record: RouteRecord;
  readonly #namePrefix: string;

  constructor(record: RouteRecord, namePrefix = '') {
    this.record = record;
    this.#namePrefix = namePrefix;
  }

  /** Name the route (prefixed by enclosing group names) for URL generation. */
  name(name: string): this {
    this.record.name = checkName(this.record.path, this.#namePrefix + name);
    return this;
  }

  /** Append middleware after the groups' middleware. */
  middleware(refs: MiddlewareRef | readonly MiddlewareRef[]): this {
    const list = Array.isArray(refs) ? refs : [refs];
    this.record.middleware.push(...checkMiddleware(this.record.path, list));
    return this;
  }

  /** Add the route to middleware groups (`'web'`, `'api'`, ...). */
  groups(names: string | readonly string[]): this {
    for (const name of typeof names === 'string' ? [names] : names) {
      if (!this.record.groups.includes(name)) this.record.groups.push(name);
    }
    return this;
  }

  /** Validate input parts with Standard Schemas (Zod, Valibot...); merged with earlier calls. */
  validate(schemas: RouteSchemas): this {
    this.record.schemas = { ...this.record.schemas, ...schemas };
    return this;
  }

  /** Body parsing options for this route (limits, kinds, timeout). */
  body(options: BodyOptions): this {
    this.record.body = options;
    return this;
  }

  /** Free metadata for later subsystems (OpenAPI summary, tags); merged shallowly. */
  meta(meta: Record<string, unknown>): this {
    Object.assign(this.record.meta, meta);
    return this;
  }

  /** Constrain a parameter: `.where('id', /^\d+$/)` is `:id(^\d+$)` in the path. */
  where(param: string, pattern: RegExp | string): this {
    this.record.path = withPattern(this.record.path, param, pattern);
    return this;
  }

  /** find-my-way constraints: `{ host: 'admin.example.com' }`, `{ version: '2.x' }`. */
  constraints(constraints: Record<string, unknown>): this {
    this.record.constraints = { ...this.record.constraints, ...constraints };
    return this;
  }
}
