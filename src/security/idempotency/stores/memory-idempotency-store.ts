import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyStore,
  StoredResponse,
} from '../idempotency-store.js';

interface MemoryRecord {
  fingerprint: string;
  token: string;
  lockedUntil: number;
  expiresAt: number;
  response: StoredResponse | undefined;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * Idempotency keys in this process's memory: for tests and single-process apps. Each method
 * runs in one synchronous turn, so claims are atomic; nothing is shared across processes
 * (cluster workers or several hosts each see their own keys), and nothing survives a
 * restart. Expired records are swept by claims (once a minute) and by `prune()`.
 *
 * @example
 * ```ts
 * const store = new MemoryIdempotencyStore();
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly driver = 'memory';
  readonly #records = new Map<string, MemoryRecord>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    // No scheduler reaches this process's memory (`idempotency:prune` runs in its own
    // process): claims sweep expired records themselves, at most once a minute.
    if (request.now - this.#sweptAt >= SWEEP_EVERY_MS) {
      this.#sweptAt = request.now;
      this.#sweep(request.now);
    }
    const current = this.#records.get(request.key);
    if (current !== undefined && current.expiresAt > request.now) {
      if (current.response !== undefined)
        return { kind: 'completed', fingerprint: current.fingerprint, response: current.response };
      const stale =
        current.lockedUntil <= request.now && current.fingerprint === request.fingerprint;
      if (!stale)
        return {
          kind: 'in-flight',
          fingerprint: current.fingerprint,
          lockedUntil: current.lockedUntil,
        };
    }
    this.#records.set(request.key, {
      fingerprint: request.fingerprint,
      token: request.token,
      lockedUntil: request.lockedUntil,
      expiresAt: request.expiresAt,
      response: undefined,
    });
    return { kind: 'claimed' };
  }

  async complete(
    key: string,
    token: string,
    response: StoredResponse,
    _now: number,
    expiresAt: number,
  ): Promise<boolean> {
    const current = this.#records.get(key);
    if (current === undefined || current.token !== token || current.response !== undefined)
      return false;
    // Copied: the caller's buffer may be reused, and a replay must not see later changes.
    current.response = {
      status: response.status,
      headers: { ...response.headers },
      body: response.body === null ? null : Buffer.from(response.body),
    };
    current.expiresAt = expiresAt;
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    const current = this.#records.get(key);
    if (current === undefined || current.token !== token || current.response !== undefined)
      return false;
    this.#records.delete(key);
    return true;
  }

  async prune(now: number): Promise<number> {
    return this.#sweep(now);
  }

  // Synchronous, so a claim's check and write stay in one turn.
  #sweep(now: number): number {
    let removed = 0;
    for (const [key, record] of this.#records)
      if (record.expiresAt <= now) {
        this.#records.delete(key);
        removed++;
      }
    return removed;
  }

  /** How many records the store holds (expired ones included until pruned). */
  get size(): number {
    return this.#records.size;
  }
}
