import type { HttpContext, HttpKernel, MiddlewareFn, Next } from '../../http/index.js';
import { E_CORS_ORIGIN_DENIED } from '../errors.js';
import type { CorsPolicy } from './cors-config.js';

// Request headers a browser sends cross-origin without asking (Fetch, "CORS-safelisted").
const SAFELISTED = new Set([
  'accept',
  'accept-language',
  'content-language',
  'content-type',
  'range',
]);
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Add to `Vary` without dropping what an earlier middleware put there. */
function vary(ctx: HttpContext, value: string): void {
  const current = ctx.getHeader('vary');
  if (current === undefined || current === '') {
    ctx.setHeader('vary', value);
    return;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  if (text.trim() === '*') return;
  const have = new Set(
    text
      .toLowerCase()
      .split(',')
      .map((v) => v.trim()),
  );
  const missing = value.split(', ').filter((v) => !have.has(v.toLowerCase()));
  if (missing.length > 0) ctx.setHeader('vary', `${text}, ${missing.join(', ')}`);
}

function isPreflight(ctx: HttpContext): boolean {
  return ctx.method === 'OPTIONS' && ctx.req.headers['access-control-request-method'] !== undefined;
}

/** Headers on an actual (non-preflight) response from an allowed origin. */
function applyActual(ctx: HttpContext, policy: CorsPolicy, origin: string | undefined): void {
  if (policy.any) {
    if (origin !== undefined && origin !== 'null') {
      ctx.setHeader('access-control-allow-origin', '*');
      if (policy.exposedValue) ctx.setHeader('access-control-expose-headers', policy.exposedValue);
    }
    return;
  }
  // The answer depends on Origin even when there is none: a shared cache must not hand a
  // response without CORS headers to a cross-origin caller, or the other way round.
  vary(ctx, 'Origin');
  if (origin === undefined || !policy.allows(origin)) return;
  ctx.setHeader('access-control-allow-origin', origin);
  if (policy.credentials) ctx.setHeader('access-control-allow-credentials', 'true');
  if (policy.exposedValue) ctx.setHeader('access-control-expose-headers', policy.exposedValue);
}

/**
 * Answer a preflight: 204 with the allowed methods and headers, or 403
 * `E_CORS_ORIGIN_DENIED` (without CORS headers, so the browser blocks the real request)
 * when the origin, the method or a header is not allowed.
 */
function answerPreflight(ctx: HttpContext, policy: CorsPolicy, origin: string | undefined): void {
  vary(ctx, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  if (origin === undefined || !policy.allows(origin))
    throw new E_CORS_ORIGIN_DENIED(origin ?? '', ctx.path, 'the origin is not allowed');
  const method = String(ctx.req.headers['access-control-request-method']).trim().toUpperCase();
  if (!policy.methods.has(method))
    throw new E_CORS_ORIGIN_DENIED(
      origin,
      ctx.path,
      `method ${method.slice(0, 32)} is not allowed`,
    );
  const asked = ctx.req.headers['access-control-request-headers'];
  let allowHeaders = policy.headersValue;
  if (asked !== undefined && asked.trim() !== '') {
    const names = asked
      .toLowerCase()
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const name of names) {
      if (!HEADER_TOKEN.test(name))
        throw new E_CORS_ORIGIN_DENIED(origin, ctx.path, 'a requested header name is malformed');
      if (policy.headers !== undefined && !policy.headers.has(name) && !SAFELISTED.has(name))
        throw new E_CORS_ORIGIN_DENIED(
          origin,
          ctx.path,
          `header ${name.slice(0, 64)} is not allowed`,
        );
    }
    // headers: '*' reflects what was asked; a literal '*' would not cover Authorization.
    if (policy.headers === undefined) allowHeaders = names.join(', ');
  }
  ctx.setHeader('access-control-allow-origin', policy.any ? '*' : origin);
  if (policy.credentials) ctx.setHeader('access-control-allow-credentials', 'true');
  ctx.setHeader('access-control-allow-methods', policy.methodsValue);
  if (allowHeaders) ctx.setHeader('access-control-allow-headers', allowHeaders);
  if (policy.maxAge !== undefined) ctx.setHeader('access-control-max-age', policy.maxAge);
  ctx.noContent();
}

/** Whether the route serving a preflight's requested method opted in with `cors`. */
function routeOptsIn(kernel: HttpKernel, ctx: HttpContext): boolean {
  const method = String(ctx.req.headers['access-control-request-method']).trim().toUpperCase();
  const found = kernel.routes.lookup(method, ctx.path, ctx.req.headers);
  return found.kind === 'found' && found.payload.middlewareNames.some((name) => name === 'cors');
}

/**
 * The kernel hook serving CORS before routing, so a preflight is answered for every
 * route (the router itself only knows the methods each route declared) and an unknown
 * path's 404 still reaches the calling script. Outside `security.cors.paths`, only
 * preflights for routes with the `cors` middleware are answered here.
 *
 * @example
 * ```ts
 * kernel.beforeRouting(corsHook(policy, kernel));
 * ```
 */
export function corsHook(policy: CorsPolicy, kernel: HttpKernel): (ctx: HttpContext) => boolean {
  return (ctx) => {
    const inPaths = policy.inPaths(ctx.path);
    const origin = ctx.req.headers.origin;
    if (isPreflight(ctx)) {
      if (!inPaths && !routeOptsIn(kernel, ctx)) return false;
      answerPreflight(ctx, policy, origin);
      return true;
    }
    if (inPaths) applyActual(ctx, policy, origin);
    return false;
  };
}

/**
 * The `cors` middleware: the same policy for one route or group outside
 * `security.cors.paths` (inside them the kernel hook has already done the work; doing it
 * again changes nothing). Its preflights are answered by the hook.
 */
export function corsMiddleware(policy: CorsPolicy): MiddlewareFn {
  return function cors(ctx: HttpContext, next: Next) {
    if (isPreflight(ctx)) answerPreflight(ctx, policy, ctx.req.headers.origin);
    else applyActual(ctx, policy, ctx.req.headers.origin);
    return ctx.sent ? undefined : next();
  };
}
