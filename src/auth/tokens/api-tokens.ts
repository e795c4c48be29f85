import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Connection } from '../../db/index.js';
import { parseDuration } from '../../support/index.js';
import { E_AUTH_USER_ID_INVALID, E_TOKEN_INVALID_OPTIONS } from '../errors.js';
import { API_TOKENS_TABLE } from '../tables.js';
import type { UserId } from '../user-provider.js';

/** One API token as stored: never its secret. */
export interface ApiToken {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  /** What the token may do; `['*']` for everything. */
  readonly abilities: readonly string[];
  readonly lastUsedAt: Date | null;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
}

/** What {@link ApiTokens.create} returns: the plain token, shown once, and its record. */
export interface NewApiToken {
  /** `<prefix>_<id>.<secret>`: give it to the client now, it cannot be read back. */
  readonly token: string;
  readonly record: ApiToken;
}

export interface CreateTokenOptions {
  /** Default `['*']`. */
  abilities?: readonly string[];
  /** Seconds, or a duration (`'30d'`); default `auth.tokens.expiresIn`, else never. */
  expiresIn?: number | string;
}

export interface ApiTokensOptions {
  connection: () => Connection;
  /** Default `keel`. */
  prefix?: string;
  /** `last_used_at` is written at most this often per token (ms); default 60 000. */
  lastUsedThrottleMs?: number;
  /** Lifetime of tokens created without `expiresIn` (ms); default: none. */
  defaultExpiresInMs?: number;
  /** The id of a user object (default `user.id`). */
  idOf?: (user: object) => UserId;
  /** A failed `last_used_at` write (authentication goes on without it). */
  onError?: (error: unknown) => void;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  table?: string;
}

interface TokenRow {
  id: string | Buffer;
  user_id: string | Buffer;
  name: string;
  hash: string | Buffer;
  abilities: string;
  last_used_at: number | string | bigint | null;
  expires_at: number | string | bigint | null;
  created_at: number | string | bigint;
}

type TokenDb = Kysely<Record<string, TokenRow>>;

const ID_BYTES = 12; // 16 base64url characters
const SECRET_BYTES = 32; // 256 bits, 43 base64url characters
const TOKEN = /^([a-z][a-z0-9]{0,15})_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;
const MAX_NAME = 255;
const MAX_ABILITIES = 256;
// Compared against when the id is unknown, so that path does the same work as a wrong secret.
const DUMMY_DIGEST = createHash('sha256').update('keel:no-such-token').digest();

/**
 * Opaque API tokens, `<prefix>_<id>.<secret>`: a 256-bit secret from the CSPRNG, of which
 * the `api_tokens` table keeps only the SHA-256. A fast hash is enough here (unlike
 * passwords): the secret is random and long, so there is nothing to guess from a leaked
 * digest. The id locates the row; the digest is compared in constant time.
 *
 * @example
 * ```ts
 * const { token } = await tokens.create(user, 'ci', { abilities: ['orders.read'], expiresIn: '30d' });
 * const record = await tokens.verify(token); // the ApiToken, or undefined
 * await tokens.revoke(record!.id);
 * ```
 */
export class ApiTokens {
  readonly #connection: () => Connection;
  readonly #prefix: string;
  readonly #throttle: number;
  readonly #defaultExpiry: number | undefined;
  readonly #idOf: (user: object) => UserId;
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;
  readonly #table: string;

  constructor(options: ApiTokensOptions) {
    this.#connection = options.connection;
    this.#prefix = options.prefix ?? 'keel';
    this.#throttle = options.lastUsedThrottleMs ?? 60_000;
    this.#defaultExpiry = options.defaultExpiresInMs;
    this.#idOf = options.idOf ?? ((user) => (user as { id: UserId }).id);
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#table = options.table ?? API_TOKENS_TABLE;
  }

  get #db(): TokenDb {
    return this.#connection().db as unknown as TokenDb;
  }

  /** The token's prefix (`keel`). */
  get prefix(): string {
    return this.#prefix;
  }

  /** Create a token for `user` (a user object or its id). The plain token is returned once. */
  async create(
    user: object | UserId,
    name: string,
    options: CreateTokenOptions = {},
  ): Promise<NewApiToken> {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME)
      throw new E_TOKEN_INVALID_OPTIONS(`the name must be 1-${MAX_NAME} characters`);
    const abilities = options.abilities ?? ['*'];
    if (
      !Array.isArray(abilities) ||
      abilities.length > MAX_ABILITIES ||
      !abilities.every((a) => typeof a === 'string' && a.length > 0 && a.length <= 200)
    )
      throw new E_TOKEN_INVALID_OPTIONS(
        `abilities must be an array of at most ${MAX_ABILITIES} non-empty strings`,
      );
    const lifetime = this.#lifetime(options.expiresIn);
    const id = randomBytes(ID_BYTES).toString('base64url');
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const now = this.#now();
    const record: ApiToken = {
      id,
      userId: this.#userKey(user),
      name,
      abilities: [...abilities],
      lastUsedAt: null,
      expiresAt: lifetime === undefined ? null : new Date(now + lifetime),
      createdAt: new Date(now),
    };
    await this.#db
      .insertInto(this.#table)
      .values({
        id,
        user_id: record.userId,
        name,
        hash: digest(secret).toString('hex'),
        abilities: JSON.stringify(record.abilities),
        last_used_at: null,
        expires_at: record.expiresAt?.getTime() ?? null,
        created_at: now,
      })
      .execute();
    return { token: `${this.#prefix}_${id}.${secret}`, record };
  }

  /**
   * The token's record when `plain` is a well-formed, known, unexpired token whose secret
   * matches; else undefined (malformed, unknown, revoked, expired or tampered alike).
   * Records its use in `last_used_at`, at most once per throttle window.
   */
  async verify(plain: unknown): Promise<ApiToken | undefined> {
    if (typeof plain !== 'string' || plain.length > 128) return undefined;
    const match = TOKEN.exec(plain);
    if (!match || match[1] !== this.#prefix) return undefined;
    const [, , id, secret] = match as unknown as [string, string, string, string];
    const row = await this.#db
      .selectFrom(this.#table)
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    const stored = row ? Buffer.from(text(row.hash), 'hex') : DUMMY_DIGEST;
    const matches = digestsEqual(digest(secret), stored);
    if (!row || !matches) return undefined;
    const token = toToken(row);
    const now = this.#now();
    if (token.expiresAt !== null && token.expiresAt.getTime() <= now) return undefined;
    const last = token.lastUsedAt?.getTime();
    if (last === undefined || now - last >= this.#throttle) {
      try {
        // Conditional, so concurrent requests with one token write it once per window.
        await this.#db
          .updateTable(this.#table)
          .set({ last_used_at: now })
          .where('id', '=', id)
          .where((eb) =>
            eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - this.#throttle)]),
          )
          .execute();
        return { ...token, lastUsedAt: new Date(now) };
      } catch (error) {
        this.#onError(error);
      }
    }
    return token;
  }

  /** Delete a token by id (or its record, or the plain token); false when there was none. */
  async revoke(token: string | ApiToken): Promise<boolean> {
    let id = typeof token === 'string' ? token : token.id;
    const plain = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (plain) id = plain[2]!;
    const result = await this.#db.deleteFrom(this.#table).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Delete every token of `user`; returns how many. */
  async revokeAll(user: object | UserId): Promise<number> {
    const result = await this.#db
      .deleteFrom(this.#table)
      .where('user_id', '=', this.#userKey(user))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The tokens of `user`, newest first, expired ones included (see `expiresAt`). */
  async list(user: object | UserId): Promise<ApiToken[]> {
    const rows = await this.#db
      .selectFrom(this.#table)
      .selectAll()
      .where('user_id', '=', this.#userKey(user))
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toToken);
  }

  /** Delete tokens that expired before now; returns how many. */
  async prune(): Promise<number> {
    const result = await this.#db
      .deleteFrom(this.#table)
      .where('expires_at', '<=', this.#now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #userKey(user: object | UserId): string {
    const id = typeof user === 'object' && user !== null ? this.#idOf(user) : user;
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    if (typeof id === 'string' && id.length > 0 && id.length <= 255) return id;
    throw new E_AUTH_USER_ID_INVALID(
      typeof id === 'string' ? `a string of ${id.length} characters` : typeof id,
    );
  }

  #lifetime(expiresIn: number | string | undefined): number | undefined {
    if (expiresIn === undefined) return this.#defaultExpiry;
    try {
      const ms = typeof expiresIn === 'number' ? expiresIn * 1000 : parseDuration(expiresIn);
      if (!Number.isFinite(ms) || ms <= 0) throw new Error('must be positive');
      return ms;
    } catch {
      throw new E_TOKEN_INVALID_OPTIONS(
        `expiresIn ${JSON.stringify(expiresIn)} is not a positive number of seconds or a duration`,
      );
    }
  }
}

/** True when the token may do `ability` (it holds it, or `*`). */
export function tokenCan(token: Pick<ApiToken, 'abilities'>, ability: string): boolean {
  return token.abilities.includes('*') || token.abilities.includes(ability);
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time for equal lengths; a stored digest of another length never matches. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

function text(value: string | Buffer): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

function time(value: number | string | bigint | null): Date | null {
  return value === null ? null : new Date(Number(value));
}

function toToken(row: TokenRow): ApiToken {
  let abilities: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.abilities);
    // A row edited by hand into something else grants nothing rather than everything.
    if (Array.isArray(parsed)) abilities = parsed.filter((a) => typeof a === 'string');
  } catch {}
  return {
    id: text(row.id),
    userId: text(row.user_id),
    name: row.name,
    abilities,
    lastUsedAt: time(row.last_used_at),
    expiresAt: time(row.expires_at),
    createdAt: time(row.created_at) as Date,
  };
}
