import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { HttpContext, MiddlewareFn } from '../../http/index.js';
import { parseContentType } from '../../http/index.js';
import type { Logger } from '../../kernel/index.js';
import { isKeelError, parseDuration } from '../../support/index.js';
import {
  E_IDEMPOTENCY_CONFIG_INVALID,
  E_IDEMPOTENCY_IN_FLIGHT,
  E_IDEMPOTENCY_KEY_REQUIRED,
  E_IDEMPOTENCY_KEY_REUSED,
} from './errors.js';
import { readIdempotencyKey, requestFingerprint, scopedKey } from './idempotency-key.js';
import type { IdempotencyStore, StoredResponse } from './idempotency-store.js';
import { type CapturedResponse, captureResponse } from './response-capture.js';

/** Methods the middleware guards; safe methods (GET, HEAD, OPTIONS) pass through untouched. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Response headers kept and replayed by default (never cookies, request ids or framing). */
export const DEFAULT_REPLAY_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-disposition',
  'content-location',
  'location',
  'link',
  'etag',
  'last-modified',
  'cache-control',
  'retry-after',
];

/** Headers never stored, whatever `replayHeaders` says: they belong to one response only. */
const NEVER_REPLAYED = new Set([
  'set-cookie',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
  'x-request-id',
]);

/**
 * What became of a request that carried a key: it ran (`executed`), got a stored response
 * (`replayed`), met its first copy still running (`in_flight`), reused a key for another
 * request (`key_reused`), failed with 5xx and freed the key (`released`), or ran but its
 * response could not be stored (`not_stored`).
 */
export type IdempotencyOutcome =
  | 'executed'
  | 'replayed'
  | 'in_flight'
  | 'key_reused'
  | 'released'
  | 'not_stored';

/** Whose key it is: `'ip'` scopes anonymous keys per client address, `'global'` shares them. */
export type IdempotencyScope = 'ip' | 'global';

/** The settings of one `idempotent` middleware. */
export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** How long a completed key is remembered (ms). Default 24 h. */
  retentionMs?: number;
  /** How long an in-flight claim holds off retries before one may take over (ms). Default 60 s. */
  lockTimeoutMs?: number;
  /** Larger response bodies are not stored: a replay gets the status and headers only. Default 1 MiB. */
  maxResponseBytes?: number;
  /** The request header carrying the key. Default `Idempotency-Key`. */
  header?: string;
  /** The response header marking a replay. Default `Idempotent-Replayed`. */
  replayedHeader?: string;
  /** Response headers stored and replayed (lower-case). Default {@link DEFAULT_REPLAY_HEADERS}. */
  replayHeaders?: readonly string[];
  /** Scope of a key when no user is authenticated. Default `'ip'`. */
  scope?: IdempotencyScope;
  /** The client identity (wins over the authenticated user and the scope); undefined falls through. */
  identify?: (ctx: HttpContext) => string | undefined;
  /** Refuse unsafe requests without a key (400). Default false. */
  required?: boolean;
  /** Epoch ms; default `Date.now`. Tests move it to expire keys and locks. */
  clock?: () => number;
  /** Where failures to record a response are logged; default the request's logger. */
  logger?: Logger;
  /** Called once per keyed request with what became of it (metrics); must not throw. */
  onOutcome?: (outcome: IdempotencyOutcome) => void;
}

/** The longest Retry-After a duplicate in flight is told to wait (s). */
const MAX_RETRY_AFTER_S = 5;

/**
 * Idempotency keys for unsafe requests. A POST/PUT/PATCH/DELETE carrying an
 * `Idempotency-Key` runs its handler once: the response (status, chosen headers, body) is
 * stored and replayed, with `Idempotent-Replayed: true`, to every retry of the same request
 * with the same key until the retention ends. A retry while the first still runs gets 409
 * (`E_IDEMPOTENCY_IN_FLIGHT`, Retry-After); the same key with another method, path, query
 * or body gets 422 (`E_IDEMPOTENCY_KEY_REUSED`). 4xx responses are stored (they replay);
 * 5xx responses and failures release the key, so the client can retry. A claim whose holder
 * died is taken over by a retry once its lock expires; the new holder's token fences the
 * old one out, so a late first request cannot overwrite the new result.
 *
 * Keys are scoped by the client: the authenticated user (`ctx.state.user.id`,
 * `ctx.state.auth.user.id` or `ctx.auth.user.id`), else the IP address (`scope: 'ip'`),
 * and by the method and route pattern. Register it after authentication.
 *
 * @example
 * ```ts
 * router.post('/orders', createOrder).middleware([idempotency({ store, required: true })]);
 * // or, with IdempotencyProvider: .middleware(['auth', 'idempotent:required'])
 * ```
 */
export function idempotency(options: IdempotencyOptions): MiddlewareFn {
  const store = options.store;
  const retention = positive('retention', options.retentionMs ?? 86_400_000);
  const lockTimeout = positive('lockTimeout', options.lockTimeoutMs ?? 60_000);
  const maxBytes = options.maxResponseBytes ?? 1_048_576;
  if (!Number.isInteger(maxBytes) || maxBytes < 0)
    throw new E_IDEMPOTENCY_CONFIG_INVALID('maxResponseBytes', `${maxBytes} is not a byte count`);
  const label = options.header ?? 'Idempotency-Key';
  const headerName = label.toLowerCase();
  const replayed = options.replayedHeader ?? 'Idempotent-Replayed';
  const kept = new Set(
    (options.replayHeaders ?? DEFAULT_REPLAY_HEADERS)
      .map((name) => name.toLowerCase())
      .filter((name) => !NEVER_REPLAYED.has(name)),
  );
  const scope = options.scope ?? 'ip';
  const identify = options.identify;
  const required = options.required ?? false;
  const clock = options.clock ?? Date.now;
  const report = options.onOutcome ?? (() => {});

  return async function idempotent(ctx: HttpContext, next) {
    if (!UNSAFE_METHODS.has(ctx.method)) return next();
    const clientKey = readIdempotencyKey(ctx.req, headerName, label);
    if (clientKey === undefined) {
      if (required) throw new E_IDEMPOTENCY_KEY_REQUIRED(label, ctx.method, ctx.path);
      return next();
    }
    // The bytes stay with the body reader: the handler's parse() decodes them, unread again.
    const body = await ctx.bodyReader.raw();
    const contentType = ctx.header('content-type');
    const fingerprint = requestFingerprint({
      method: ctx.method,
      path: ctx.path,
      search: ctx.search,
      mediaType: contentType === undefined ? '' : (parseContentType(contentType)?.type ?? ''),
      body,
    });
    const route = ctx.route?.record.path ?? ctx.path;
    const key = scopedKey(identityOf(ctx, scope, identify), ctx.method, route, clientKey);
    const token = randomUUID();
    const now = clock();
    const claim = await store.claim({
      key,
      fingerprint,
      token,
      now,
      lockedUntil: now + lockTimeout,
      expiresAt: now + retention,
    });
    if (claim.kind !== 'claimed') {
      if (claim.fingerprint !== fingerprint) {
        report('key_reused');
        throw new E_IDEMPOTENCY_KEY_REUSED(label);
      }
      if (claim.kind === 'completed') {
        report('replayed');
        return replay(ctx, claim.response, replayed);
      }
      report('in_flight');
      const wait = Math.ceil((claim.lockedUntil - now) / 1000);
      const retryAfter = Math.min(MAX_RETRY_AFTER_S, Math.max(1, wait));
      throw Object.assign(new E_IDEMPOTENCY_IN_FLIGHT(retryAfter), {
        headers: { 'retry-after': String(retryAfter) },
      });
    }

    const log = () => options.logger ?? ctx.logger;
    // Settled before the response ends (see captureResponse), whatever wrote it.
    const settle = async (captured: CapturedResponse): Promise<void> => {
      try {
        if (captured.status >= 500) {
          report('released');
          await store.release(key, token);
          return;
        }
        const done = clock();
        const stored = await store.complete(
          key,
          token,
          { status: captured.status, headers: pick(captured.headers, kept), body: captured.body },
          done,
          done + retention,
        );
        report(stored ? 'executed' : 'not_stored');
        if (!stored)
          log().warn(
            { route },
            'idempotency: the response was not stored: the claim expired and was taken over by a retry (raise security.idempotency.lockTimeout above the longest request)',
          );
      } catch (error) {
        // The response still goes out; the claim stays in flight until its lock expires,
        // and a retry after that runs the handler again.
        report('not_stored');
        log().error({ err: error, route }, 'idempotency: recording the response failed');
      }
    };
    // The response may end inside a transaction the handler opened (`ctx.json()` called in
    // `db.transaction(...)`): the record is written from this middleware's context instead,
    // so it never joins, or waits for, the handler's transaction.
    const origin = new AsyncResource('keel.idempotency');
    const capture = captureResponse(ctx.res, maxBytes, (captured) =>
      origin.runInAsyncScope(settle, null, captured).finally(() => origin.emitDestroy()),
    );
    try {
      await next();
    } catch (error) {
      // A failure after the head went out: the kernel cuts the connection, nothing ends
      // the response, so nothing would settle the claim. Free it for a retry.
      if (ctx.sent && !capture.ended) {
        report('released');
        await store.release(key, token).catch((cause: unknown) => {
          log().error({ err: cause, route }, 'idempotency: releasing the key failed');
        });
      }
      throw error;
    }
  };
}

/**
 * The factory behind the `idempotent` middleware alias: `idempotent`, `idempotent:required`,
 * `idempotent:24h`, `idempotent:required,1h` (a duration sets the retention; `optional`
 * undoes a `required` default). Bad arguments fail the boot, naming the route's alias.
 *
 * @example
 * ```ts
 * kernel.middleware.register('idempotent', idempotentAlias(() => ({ store })));
 * ```
 */
export function idempotentAlias(base: () => IdempotencyOptions): (args: string[]) => MiddlewareFn {
  return (args) => {
    const options: IdempotencyOptions = { ...base() };
    for (const arg of args) {
      if (arg === 'required') options.required = true;
      else if (arg === 'optional') options.required = false;
      else {
        try {
          options.retentionMs = parseDuration(arg);
        } catch (error) {
          if (!isKeelError(error)) throw error;
          throw new E_IDEMPOTENCY_CONFIG_INVALID(
            `idempotent:${args.join(',')}`,
            `"${arg}" is neither "required", "optional" nor a duration such as "24h"`,
          ).withCause(error);
        }
      }
    }
    return idempotency(options);
  };
}

function positive(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0)
    throw new E_IDEMPOTENCY_CONFIG_INVALID(name, `${ms} ms is not a positive duration`);
  return Math.ceil(ms);
}

/** Send a stored response again, marked as a replay. */
function replay(ctx: HttpContext, response: StoredResponse, marker: string): void {
  for (const [name, value] of Object.entries(response.headers))
    ctx.setHeader(name, value as string | string[]);
  ctx.setHeader(marker, 'true');
  ctx.status(response.status);
  if (response.body === null) {
    // Too large to keep: the outcome without the representation it no longer has.
    ctx.removeHeader('content-type');
    ctx.end();
  } else if (response.body.length === 0) ctx.end();
  else ctx.send(response.body, 'application/octet-stream');
}

function pick(headers: OutgoingHttpHeaders, kept: ReadonlySet<string>): StoredResponse['headers'] {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !kept.has(name)) continue;
    out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** The authenticated user's id, when an auth layer put one where it is customary. */
function userIdOf(ctx: HttpContext): string | undefined {
  const state = ctx.state;
  const candidates: unknown[] = [state.user, (state.auth as { user?: unknown } | undefined)?.user];
  if ('auth' in ctx) {
    try {
      candidates.push((ctx as unknown as { auth?: { user?: unknown } }).auth?.user);
    } catch {
      // An auth object that throws for a guest: no user.
    }
  }
  for (const user of candidates) {
    if (user === null || typeof user !== 'object') continue;
    const id = (user as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint')
      return String(id);
  }
  return undefined;
}

function identityOf(
  ctx: HttpContext,
  scope: IdempotencyScope,
  identify: IdempotencyOptions['identify'],
): string {
  const custom = identify?.(ctx);
  if (custom !== undefined) return `custom:${custom}`;
  const user = userIdOf(ctx);
  if (user !== undefined) return `user:${user}`;
  return scope === 'ip' ? `ip:${ctx.ip}` : 'global';
}
