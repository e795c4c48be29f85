import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  createRedisClient,
  isRedisUnavailable,
  redisOutageReason,
} from '../../support/redis-client.js';
import { E_CACHE_STORE_UNAVAILABLE } from '../errors.js';

/**
 * What one process tells the others about its writes: drop these keys (`k`), or every key
 * under a prefix (`p`) from your L1. `reset` is local only: the bus lost messages (its
 * subscription dropped), so the whole L1 must go.
 */
export type Invalidation = { keys: readonly string[] } | { prefix: string } | { reset: true };

/**
 * Carries L1 invalidations between the processes that share a tiered cache. A process
 * never receives its own messages back.
 */
export interface InvalidationBus {
  publish(message: { keys: readonly string[] } | { prefix: string }): Promise<void>;
  /** Start delivering other processes' invalidations to `listener`; returns the unsubscriber. */
  subscribe(listener: (message: Invalidation) => void): () => void;
  close(): Promise<void>;
}

export interface RedisInvalidationBusOptions {
  /** `redis://…`; default 127.0.0.1:6379. */
  url?: string;
  /** The pub/sub channel (default `keel:cache:invalidate`): one per app sharing a Redis. */
  channel?: string;
  /** Connection errors (both clients), for logging; they never throw. */
  onError?: (error: Error) => void;
}

interface Wire {
  /** The sending process's bus id. */
  o: string;
  k?: string[];
  p?: string;
}

/**
 * An {@link InvalidationBus} over Redis pub/sub: one connection publishes, one subscribes
 * (a subscribed Redis connection can do nothing else). When the subscription drops and
 * comes back, messages may have been missed, so listeners get `{ reset: true }` and clear
 * their L1: after an outage a process re-reads from L2 rather than trust what it held.
 *
 * @example
 * ```ts
 * const bus = await RedisInvalidationBus.connect({ url: 'redis://127.0.0.1:6379', channel: 'shop:cache' });
 * const store = new TieredStore({ l1: new MemoryStore(), l2: redisStore, bus });
 * ```
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly id = randomUUID();
  readonly channel: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #listeners = new Set<(message: Invalidation) => void>();
  /** The channel is subscribed on the current connection. */
  #subscribed = false;
  /**
   * Messages may have been missed (the subscription dropped, or a subscribe failed): the next
   * successful subscribe resets the listeners' L1.
   */
  #missed = false;
  #closed = false;

  readonly #onError: ((error: Error) => void) | undefined;

  private constructor(
    pub: Redis,
    sub: Redis,
    channel: string,
    onError: ((error: Error) => void) | undefined,
  ) {
    this.#pub = pub;
    this.#sub = sub;
    this.channel = channel;
    this.#onError = onError;
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#receive(text);
    });
    // What was published while the connection was down is lost.
    sub.on('close', () => {
      if (this.#subscribed) this.#missed = true;
      this.#subscribed = false;
    });
    // The bus resubscribes itself on every reconnect (the client has autoResubscribe off:
    // ioredis would send that SUBSCRIBE without handling its failure, and a connection that
    // drops again before the reply left an unhandled rejection behind).
    sub.on('ready', () => {
      if (!this.#closed && this.#missed) void this.#subscribe();
    });
  }

  /**
   * Create both clients and subscribe. Redis being down does not fail this: the bus
   * subscribes when Redis comes back, and its listeners then get `{ reset: true }`.
   */
  static async connect(options: RedisInvalidationBusOptions = {}): Promise<RedisInvalidationBus> {
    const common = {
      ...(options.url !== undefined ? { url: options.url } : {}),
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
    };
    const pub = await createRedisClient(common);
    // The subscriber keeps its offline queue, so the first SUBSCRIBE waits for the
    // connection; it resubscribes by itself on 'ready' (see the constructor).
    const sub = await createRedisClient({
      ...common,
      options: { enableOfflineQueue: true, autoResubscribe: false },
    });
    const bus = new RedisInvalidationBus(
      pub,
      sub,
      options.channel ?? 'keel:cache:invalidate',
      options.onError,
    );
    await bus.#subscribe();
    return bus;
  }

  /** Whether the subscription is live (false while Redis is unreachable). */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Subscribe; a failure is reported and retried on the next 'ready'. */
  async #subscribe(): Promise<void> {
    try {
      await this.#sub.subscribe(this.channel);
    } catch (error) {
      if (this.#closed) return;
      this.#onError?.(error as Error);
      this.#missed = true;
      return;
    }
    // The reply came on the live connection: a 'close' after it finds the flag set.
    if (this.#closed) return;
    this.#subscribed = true;
    // Subscribed again after an outage, or after a failed start: whatever L1 took in
    // meanwhile was never covered by the other processes' messages.
    if (!this.#missed) return;
    this.#missed = false;
    this.#deliver({ reset: true });
  }

  async publish(message: { keys: readonly string[] } | { prefix: string }): Promise<void> {
    const wire: Wire =
      'keys' in message ? { o: this.id, k: [...message.keys] } : { o: this.id, p: message.prefix };
    try {
      await this.#pub.publish(this.channel, JSON.stringify(wire));
    } catch (error) {
      throw unavailable(error);
    }
  }

  subscribe(listener: (message: Invalidation) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribed = false;
    this.#listeners.clear();
    // quit() waits for a reply that never comes while Redis is down: disconnect instead.
    this.#sub.disconnect();
    this.#pub.disconnect();
  }

  #receive(text: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(text) as Wire;
    } catch {
      return; // not ours: somebody else publishes on this channel
    }
    if (typeof wire !== 'object' || wire === null || wire.o === this.id) return;
    if (Array.isArray(wire.k)) {
      const keys = wire.k.filter((k): k is string => typeof k === 'string');
      this.#deliver({ keys });
    } else if (typeof wire.p === 'string') {
      this.#deliver({ prefix: wire.p });
    }
  }

  #deliver(message: Invalidation): void {
    for (const listener of this.#listeners) listener(message);
  }
}

function unavailable(error: unknown): Error {
  if (!isRedisUnavailable(error)) return error as Error;
  return new E_CACHE_STORE_UNAVAILABLE('redis', redisOutageReason(error)).withCause(error);
}
