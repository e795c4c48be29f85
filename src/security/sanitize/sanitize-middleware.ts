import type { HttpContext, MiddlewareFn, Next } from '../../http/index.js';
import { suggest } from '../../support/index.js';
import { E_SECURITY_CONFIG_INVALID } from '../errors.js';
import { type CompiledPart, compileOptions, type SanitizeOptions } from './sanitize-rules.js';
import type { Sanitizer } from './sanitizers.js';

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Rewrite every string inside `value` in place (plain objects and arrays only). An explicit
 * stack instead of recursion: a string nested deeper than any depth limit would otherwise
 * slip through unsanitized.
 */
function sanitizeAll(value: unknown, sanitize: Sanitizer): unknown {
  if (typeof value === 'string') return sanitize(value);
  if (typeof value !== 'object' || value === null) return value;
  const stack: unknown[] = [value];
  const visit = (target: Record<string | number, unknown>, key: string | number) => {
    const child = target[key];
    if (typeof child === 'string') target[key] = sanitize(child);
    else if (typeof child === 'object' && child !== null) stack.push(child);
  };
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node as unknown as Record<number, unknown>, i);
    } else if (isPlain(node)) {
      // `__proto__` would go through the setter instead of the property.
      for (const key of Object.keys(node)) if (key !== '__proto__') visit(node, key);
    }
  }
  return value;
}

/** Apply `sanitize` to the values at `path` (`*` = every key or index) inside `target`. */
function sanitizePath(
  target: unknown,
  path: readonly string[],
  index: number,
  sanitize: Sanitizer,
): void {
  if (!Array.isArray(target) && !isPlain(target)) return;
  const container = target as Record<string, unknown>;
  const segment = path[index]!;
  const keys =
    segment === '*' ? Object.keys(container) : Object.hasOwn(container, segment) ? [segment] : [];
  for (const key of keys) {
    if (key === '__proto__') continue;
    if (index === path.length - 1) {
      container[key] = sanitizeAll(container[key], sanitize);
    } else sanitizePath(container[key], path, index + 1, sanitize);
  }
}

function applyPart(value: unknown, part: CompiledPart): unknown {
  if (part.kind === 'all') return sanitizeAll(value, part.sanitize);
  if (!isPlain(value)) return value;
  // Fields named explicitly get their own rules; `'*'` rules cover the top-level keys that
  // no field rule starts with.
  for (const field of part.fields) sanitizePath(value, field.path, 0, field.sanitize);
  if (part.rest !== undefined) {
    const claimed = new Set(part.fields.map((field) => field.path[0]));
    for (const key of Object.keys(value)) {
      if (key !== '__proto__' && !claimed.has(key) && !claimed.has('*'))
        value[key] = sanitizeAll(value[key], part.rest);
    }
  }
  return value;
}

function hasBody(ctx: HttpContext): boolean {
  const headers = ctx.req.headers;
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

/**
 * Middleware rewriting the parsed body and query in place before the route's validation
 * runs (route middleware runs before it), so schemas see clean strings and the handler
 * reads the same clean values through `ctx.body()`, `ctx.query` or `ctx.validated`.
 * Object bodies (JSON, forms, multipart fields) are rewritten; a bare text body is not.
 *
 * @example
 * ```ts
 * router.post('/customers', store)
 *   .middleware([sanitize({ body: { name: ['trim', 'nfc'], notes: ['strip_control:keep_newlines'], '*': ['trim'] } })])
 *   .validate({ body: customerSchema });
 * ```
 */
export function sanitize(options: SanitizeOptions): MiddlewareFn {
  return sanitizeMiddleware(compileOptions(options, 'sanitize()'));
}

/** The middleware for compiled rules (the `sanitize[:profile]` alias shares these). */
export function sanitizeMiddleware(compiled: {
  body?: CompiledPart;
  query?: CompiledPart;
}): MiddlewareFn {
  const { body, query } = compiled;
  return function sanitizeInput(ctx: HttpContext, next: Next) {
    if (query !== undefined && ctx.search !== '') applyPart(ctx.query, query);
    if (body === undefined || !hasBody(ctx)) return next();
    return ctx.body().then((value) => {
      applyPart(value, body);
      return next();
    });
  };
}

/** The factory behind `sanitize[:profile]`, for profiles compiled at boot. */
export function sanitizeFactory(
  profiles: ReadonlyMap<string, { body?: CompiledPart; query?: CompiledPart }>,
): (args: string[]) => MiddlewareFn {
  const built = new Map<string, MiddlewareFn>();
  for (const [name, compiled] of profiles) built.set(name, sanitizeMiddleware(compiled));
  return (args) => {
    const name = args[0] || 'default';
    const found = built.get(name);
    if (found === undefined) {
      const nearest = suggest(name, built.keys());
      throw new E_SECURITY_CONFIG_INVALID(
        `security.sanitize.profiles.${name}`,
        `no such profile (used as "sanitize:${name}")${nearest ? `; did you mean "${nearest}"?` : ''}`,
      );
    }
    return found;
  };
}
