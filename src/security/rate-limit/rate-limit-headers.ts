import type { HttpContext } from '../../http/index.js';
import type { RateLimitPolicy, RateLimitResult } from './rate-limiter.js';

/** An RFC 8941 sf-string: quoted, with `\` and `"` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function append(ctx: HttpContext, name: string, item: string): void {
  const previous = ctx.res.getHeader(name);
  ctx.res.setHeader(name, previous === undefined ? item : `${String(previous)}, ${item}`);
}

/**
 * Write the rate-limit headers of one limiter's decision:
 *
 * - `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix time in
 *   seconds, as GitHub and Laravel send it); with several limiters on one route, those
 *   of the one with the fewest requests left;
 * - `RateLimit-Policy: "login";q=5;w=60` and `RateLimit: "login";r=4;t=60` as in
 *   draft-ietf-httpapi-ratelimit-headers-09 (structured-field lists: one item per limiter).
 *
 * They go on the Node response itself, so they survive a refusal rendered as a problem.
 */
export function writeRateLimitHeaders(
  ctx: HttpContext,
  policy: RateLimitPolicy,
  result: RateLimitResult,
): void {
  const resetSeconds = Math.ceil(result.resetMs / 1000);
  const previous = ctx.res.getHeader('x-ratelimit-remaining');
  if (previous === undefined || Number(previous) >= result.remaining) {
    ctx.res.setHeader('x-ratelimit-limit', String(policy.points));
    ctx.res.setHeader('x-ratelimit-remaining', String(result.remaining));
    ctx.res.setHeader('x-ratelimit-reset', String(Math.ceil((Date.now() + result.resetMs) / 1000)));
  }
  const name = sfString(policy.name);
  append(ctx, 'ratelimit-policy', `${name};q=${policy.points};w=${policy.duration}`);
  append(ctx, 'ratelimit', `${name};r=${result.remaining};t=${resetSeconds}`);
}
