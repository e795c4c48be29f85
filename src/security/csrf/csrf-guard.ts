import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpContext } from '../../http/index.js';
import type { Session } from '../../session/index.js';
import type { CsrfConfig } from './csrf-config.js';
import { E_CSRF_ORIGIN_MISMATCH, E_CSRF_TOKEN_MISMATCH } from './errors.js';

/** Where the token lives in the session. */
export const CSRF_SESSION_KEY = '_csrf';

/** The session's token: the value, when it was issued, and which session id it belongs to. */
interface StoredToken {
  token: string;
  issuedAt: number;
  /** A digest of the session id it was issued for: a regenerated session gets a new token. */
  sid: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
const sessionDigest = (id: string): string =>
  createHash('sha256').update(id).digest('base64url').slice(0, 22);

/**
 * The synchronizer-token pattern (OWASP CSRF cheat sheet): a 256-bit random token kept in
 * the session, valid for `lifetime` and for the session id it was issued to (login
 * regenerates the id, so it also renews the token). Unsafe methods must send it back, as
 * the form field, the `X-CSRF-TOKEN` header or (SPAs) the `X-XSRF-TOKEN` header echoing
 * the cookie; the comparison hashes both sides first, so it takes the same time whatever
 * was sent. As a second line, a request the browser marks as cross-site is refused even
 * with a token.
 *
 * @example
 * ```ts
 * const guard = new CsrfGuard(resolveCsrfConfig({}));
 * guard.token(ctx.session); // 'Jm3…' (43 characters)
 * await guard.verify(ctx, ctx.session); // throws E_CSRF_TOKEN_MISMATCH when wrong
 * ```
 */
export class CsrfGuard {
  readonly #config: CsrfConfig;
  readonly #now: () => number;
  readonly #exact: ReadonlySet<string>;
  readonly #prefixes: readonly string[];

  constructor(config: CsrfConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    this.#exact = new Set(config.exempt.filter((path) => !path.endsWith('*')));
    this.#prefixes = config.exempt.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  }

  get config(): CsrfConfig {
    return this.#config;
  }

  /** Whether `ctx` must prove itself: an unsafe method on a path that is not exempt. */
  applies(ctx: HttpContext): boolean {
    if (SAFE_METHODS.has(ctx.method)) return false;
    if (this.#exact.has(ctx.path)) return false;
    for (const prefix of this.#prefixes) if (ctx.path.startsWith(prefix)) return false;
    return true;
  }

  /** The session's valid token, issuing a new one when there is none or it expired. */
  token(session: Session): string {
    return this.#valid(session) ?? this.#issue(session);
  }

  /** The session's token if one is valid now, without issuing one. */
  current(session: Session): string | undefined {
    return this.#valid(session);
  }

  /** Throw E_CSRF_ORIGIN_MISMATCH or E_CSRF_TOKEN_MISMATCH unless `ctx` carries the session's token. */
  async verify(ctx: HttpContext, session: Session): Promise<void> {
    if (this.#config.checkOrigin) this.#checkOrigin(ctx);
    const sent = await this.#sent(ctx);
    const stored = session.get<StoredToken>(CSRF_SESSION_KEY);
    const fail = (reason: string) => new E_CSRF_TOKEN_MISMATCH(ctx.method, ctx.path, reason);
    if (sent === undefined) throw fail('no token was sent');
    if (!isStoredToken(stored) || stored.sid !== sessionDigest(session.id))
      throw fail('this session has no token (it expired or was renewed): reload the page');
    // Compare before looking at the age, so the answer's timing does not tell a guess apart.
    const matches = timingSafeEqual(digest(sent), digest(stored.token));
    if (!matches) throw fail("the token does not match this session's");
    if (this.#now() - stored.issuedAt > this.#config.lifetimeMs)
      throw fail('the token expired: reload the page');
  }

  #valid(session: Session): string | undefined {
    const stored = session.get<StoredToken>(CSRF_SESSION_KEY);
    if (!isStoredToken(stored)) return undefined;
    if (stored.sid !== sessionDigest(session.id)) return undefined;
    if (this.#now() - stored.issuedAt > this.#config.lifetimeMs) return undefined;
    return stored.token;
  }

  #issue(session: Session): string {
    const token = randomBytes(32).toString('base64url');
    const stored: StoredToken = { token, issuedAt: this.#now(), sid: sessionDigest(session.id) };
    session.put(CSRF_SESSION_KEY, stored);
    return token;
  }

  /** The token the request sent: the header, the SPA header, then the form or JSON field. */
  async #sent(ctx: HttpContext): Promise<string | undefined> {
    const fromHeader = ctx.header(this.#config.header) ?? ctx.header('x-xsrf-token');
    if (fromHeader !== undefined) return TOKEN.test(fromHeader) ? fromHeader : undefined;
    const type = ctx.header('content-type') ?? '';
    if (
      !/^(application\/x-www-form-urlencoded|multipart\/form-data|application\/(.+\+)?json)/i.test(
        type,
      )
    )
      return undefined;
    const body = await ctx.body();
    if (body === null || typeof body !== 'object') return undefined;
    const value = (body as Record<string, unknown>)[this.#config.field];
    return typeof value === 'string' && TOKEN.test(value) ? value : undefined;
  }

  #checkOrigin(ctx: HttpContext): void {
    const origin = ctx.header('origin');
    const site = ctx.header('sec-fetch-site');
    if (origin !== undefined) {
      if (this.#config.trustedOrigins.has(origin)) return;
      let host: string | undefined;
      try {
        host = origin === 'null' ? undefined : new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host === undefined || host !== ctx.host)
        throw new E_CSRF_ORIGIN_MISMATCH(ctx.method, ctx.path, origin);
      return;
    }
    // No Origin (older browsers, some same-origin requests): the fetch metadata, when sent.
    if (site === 'cross-site') throw new E_CSRF_ORIGIN_MISMATCH(ctx.method, ctx.path, 'cross-site');
  }
}

function isStoredToken(value: unknown): value is StoredToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StoredToken).token === 'string' &&
    typeof (value as StoredToken).issuedAt === 'number' &&
    typeof (value as StoredToken).sid === 'string'
  );
}
