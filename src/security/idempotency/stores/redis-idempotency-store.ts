import type { Redis, RedisOptions } from 'ioredis';
import {
  closeRedisClient,
  createRedisClient,
  isRedisUnavailable,
  redisOutageReason,
} from '../../../support/index.js';
import { E_IDEMPOTENCY_STORE_UNAVAILABLE } from '../errors.js';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyStore,
  StoredResponse,
} from '../idempotency-store.js';

export interface RedisIdempotencyStoreOptions {
  /** An ioredis client (created by the caller, or by the provider from config). */
  client: Redis;
  /** Prepended to every key; default `keel:idempotency:`. */
  prefix?: string;
  /** Quit the client on close(); default false (whoever created it closes it). */
  ownsClient?: boolean;
}

/** How {@link RedisIdempotencyStore.connect} creates its client. */
export interface RedisIdempotencyStoreConnectOptions {
  url?: string;
  options?: RedisOptions;
  prefix?: string;
  onError?: (error: Error) => void;
}

// KEYS[1] the record (a hash). ARGV[1] fingerprint, ARGV[2] token, ARGV[3] now,
// ARGV[4] locked_until, ARGV[5] expires_at (all epoch ms by the caller's clock).
// Invariant: the record is written only when it is absent, expired (expires_at <= now), or
// an in-flight claim of the same fingerprint whose lock ran out; Redis runs scripts one at
// a time, so of concurrent claims exactly one writes. Otherwise the record is returned as
// it is, so the caller learns its state in the same atomic step.
// The key's PX is garbage collection only: expiry is decided by expires_at.
const CLAIM = `
local rec = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'locked_until', 'expires_at',
  'status', 'headers', 'body', 'omitted')
local now = tonumber(ARGV[3])
if rec[1] then
  local expired = tonumber(rec[4]) <= now
  local stale = rec[1] == 'in_flight' and tonumber(rec[3]) <= now and rec[2] == ARGV[1]
  if not expired and not stale then return rec end
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'state', 'in_flight', 'fingerprint', ARGV[1], 'token', ARGV[2],
  'locked_until', ARGV[4], 'expires_at', ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(ARGV[5]) - now))
return 1`;

// KEYS[1] the record. ARGV[1] token, ARGV[2] status, ARGV[3] headers (JSON), ARGV[4] body
// (base64, or '' with ARGV[5] = '1' when omitted), ARGV[6] expires_at, ARGV[7] ttl ms.
// Only the current in-flight claim's holder writes.
const COMPLETE = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'in_flight' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed', 'status', ARGV[2], 'headers', ARGV[3],
  'body', ARGV[4], 'omitted', ARGV[5], 'expires_at', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1`;

// KEYS[1] the record; ARGV[1] token. Deletes only the caller's own in-flight claim.
const RELEASE = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'in_flight' then return 0 end
return redis.call('DEL', KEYS[1])`;

/**
 * Idempotency keys in Redis: one hash per scoped key (`<prefix><key>`), written only by Lua
 * scripts, with a PX expiry at its retention so Redis forgets it by itself (`prune()` has
 * nothing to do). Bodies are stored base64-encoded. One Redis server or primary.
 *
 * While Redis is unreachable every call fails with `E_IDEMPOTENCY_STORE_UNAVAILABLE` (503):
 * the request is refused rather than run without protection.
 *
 * @example
 * ```ts
 * const store = new RedisIdempotencyStore({ client: new Redis(), prefix: 'shop:idem:' });
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly driver = 'redis';
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #ownsClient: boolean;

  constructor(options: RedisIdempotencyStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'keel:idempotency:';
    this.#ownsClient = options.ownsClient ?? false;
  }

  /** A store with a fail-fast client of its own (quit on close); nothing connects until the first call. */
  static async connect(
    options: RedisIdempotencyStoreConnectOptions = {},
  ): Promise<RedisIdempotencyStore> {
    const client = await createRedisClient({
      url: options.url,
      options: options.options,
      onError: options.onError,
    });
    return new RedisIdempotencyStore({ client, prefix: options.prefix, ownsClient: true });
  }

  get client(): Redis {
    return this.#client;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { key, fingerprint, token, now, lockedUntil, expiresAt } = request;
    const reply = await this.#run(() =>
      this.#client.eval(
        CLAIM,
        1,
        this.#prefix + key,
        fingerprint,
        token,
        now,
        lockedUntil,
        expiresAt,
      ),
    );
    if (!Array.isArray(reply)) return { kind: 'claimed' };
    const [state, storedFingerprint, locked, , status, headers, body, omitted] = reply as Array<
      string | null
    >;
    if (state === 'completed') {
      return {
        kind: 'completed',
        fingerprint: storedFingerprint ?? '',
        response: {
          status: Number(status),
          headers: parseHeaders(headers ?? null),
          body: omitted === '1' ? null : Buffer.from(body ?? '', 'base64'),
        },
      };
    }
    return { kind: 'in-flight', fingerprint: storedFingerprint ?? '', lockedUntil: Number(locked) };
  }

  async complete(
    key: string,
    token: string,
    response: StoredResponse,
    now: number,
    expiresAt: number,
  ): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - now);
    const reply = await this.#run(() =>
      this.#client.eval(
        COMPLETE,
        1,
        this.#prefix + key,
        token,
        response.status,
        JSON.stringify(response.headers),
        response.body === null ? '' : response.body.toString('base64'),
        response.body === null ? '1' : '0',
        expiresAt,
        ttl,
      ),
    );
    return Number(reply) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    const reply = await this.#run(() => this.#client.eval(RELEASE, 1, this.#prefix + key, token));
    return Number(reply) === 1;
  }

  /** Redis expires records by itself (PX at the retention): nothing to delete. */
  async prune(_now: number): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await closeRedisClient(this.#client);
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error;
      throw new E_IDEMPOTENCY_STORE_UNAVAILABLE('redis', redisOutageReason(error)).withCause(error);
    }
  }
}

function parseHeaders(value: string | null): StoredResponse['headers'] {
  try {
    const parsed = JSON.parse(value ?? '{}') as unknown;
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as StoredResponse['headers'])
      : {};
  } catch {
    return {};
  }
}
