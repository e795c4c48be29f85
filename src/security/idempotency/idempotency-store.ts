/**
 * A response kept for replay: its status, the headers chosen for replay (lower-case names)
 * and its body bytes. `body` is null when the body was larger than the store limit: the
 * outcome is kept (the handler never runs twice) but the replay carries no body.
 */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer | null;
}

/** What a claim asks the store to write for a key nobody holds. */
export interface ClaimRequest {
  /** The scoped key: SHA-256 hex of identity, route and the client's key. */
  readonly key: string;
  /** SHA-256 hex of method, path, query, content type and canonical body. */
  readonly fingerprint: string;
  /** Unique per claim: only its holder can complete or release the key (fencing). */
  readonly token: string;
  /** Now, in epoch ms (the caller's clock, so every store agrees with it). */
  readonly now: number;
  /** Until when (epoch ms) the claim holds off retries; after it, a retry may reclaim. */
  readonly lockedUntil: number;
  /** When (epoch ms) the key is forgotten; after it, the same key is a new request. */
  readonly expiresAt: number;
}

/**
 * The answer to a claim: the caller now owns the key, or the key is held by a request still
 * running (with its lock expiry), or a request already completed (with its response).
 */
export type ClaimResult =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'in-flight'; readonly fingerprint: string; readonly lockedUntil: number }
  | { readonly kind: 'completed'; readonly fingerprint: string; readonly response: StoredResponse };

/**
 * Where idempotency keys live. Every method is one atomic step on the store (one statement,
 * one Lua script, one synchronous turn in memory). Keys and fingerprints are hex digests
 * computed by the middleware; stores trust them.
 *
 * Invariants every store keeps, checked by `idempotency-store.contract.ts`:
 * - of any number of concurrent claims of a free key, exactly one gets `claimed`;
 * - a key whose record expired (`expiresAt <= now`) is free, whatever its state;
 * - an in-flight key whose lock expired (`lockedUntil <= now`) may be reclaimed by a claim
 *   with the same fingerprint, which gets a new token;
 * - `complete` and `release` change nothing unless `token` is the current in-flight claim's,
 *   so a stale first request cannot overwrite the result of the request that reclaimed.
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = new MemoryIdempotencyStore();
 * const result = await store.claim({ key, fingerprint, token, now, lockedUntil, expiresAt });
 * if (result.kind === 'claimed') await store.complete(key, token, response, now, expiresAt);
 * ```
 */
export interface IdempotencyStore {
  /** `memory`, `database`, `redis`: for messages. */
  readonly driver: string;
  /** Claim `key` for `token`, or report who has it. */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Record the response of the claim `token` holds and keep it until `expiresAt`.
   * False (nothing changed) when the claim was lost: released, expired, or reclaimed.
   */
  complete(
    key: string,
    token: string,
    response: StoredResponse,
    now: number,
    expiresAt: number,
  ): Promise<boolean>;
  /** Forget the in-flight claim `token` holds (the request failed); false when it holds none. */
  release(key: string, token: string): Promise<boolean>;
  /** Delete records that expired at or before `now`; returns how many (stores that expire by themselves may return 0). */
  prune(now: number): Promise<number>;
  /** Free what the store opened (connections it owns). */
  close?(): Promise<void>;
}
