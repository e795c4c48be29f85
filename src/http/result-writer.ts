import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HttpContext } from './context.js';

/**
 * Turn a handler's return value into a response: objects/arrays → JSON, strings → text
 * (HTML when they start with `<`), Buffers → bytes, web Responses → copied, streams → piped,
 * undefined/null → 204 (unless a status was set, then an empty body).
 */
export function writeResult(ctx: HttpContext, result: unknown): void | Promise<void> {
  if (result === undefined || result === null) {
    if (ctx.statusCode !== 200) {
      ctx.end();
      return;
    }
    ctx.noContent();
    return;
  }
  if (typeof result === 'string') {
    if (result.charCodeAt(0) === 60 /* < */) ctx.html(result);
    else ctx.text(result);
    return;
  }
  if (Buffer.isBuffer(result) || result instanceof Uint8Array) {
    ctx.send(result, 'application/octet-stream');
    return;
  }
  if (result instanceof Response) return writeWebResponse(ctx, result);
  if (result instanceof Readable) return ctx.stream(result);
  ctx.json(result);
}

/** Copy a web-standard Response (status, headers, body) onto the Node response. */
export async function writeWebResponse(ctx: HttpContext, response: Response): Promise<void> {
  const res = ctx.res;
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), res);
}
