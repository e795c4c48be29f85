import { Readable } from 'node:stream';
import type { HttpContext } from './context.js';
import type { FetchHandler } from './types.js';

/** Build a web-standard Request from the context, with `prefix` removed from the path. */
export function toWebRequest(ctx: HttpContext, prefix = ''): Request {
  const host = ctx.header('host') ?? 'localhost';
  let path = ctx.path;
  if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length) || '/';
  const headers = new Headers();
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const hasBody = ctx.method !== 'GET' && ctx.method !== 'HEAD';
  return new Request(`http://${host}${path}${ctx.search ? `?${ctx.search}` : ''}`, {
    method: ctx.method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(ctx.req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit);
}

/** A route handler serving a mounted fetch handler under `prefix`. */
export function mountHandler(
  handler: FetchHandler,
  prefix: string,
): (ctx: HttpContext) => Promise<Response> {
  const clean = prefix.replace(/\/\*?$/, '');
  return async (ctx) => handler(toWebRequest(ctx, clean));
}
