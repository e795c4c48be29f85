import type { Redis, RedisOptions } from 'ioredis';

/** How a fail-fast Redis client is created (see {@link createRedisClient}). */
export interface RedisClientOptions {
  /** `redis://[:password@]host:port/db`; `options` override its parts. */
  url?: string;
  /** ioredis options; they win over the fail-fast defaults below. */
  options?: RedisOptions;
  /** Longest wait for one command's reply before it fails (default 1000 ms). */
  commandTimeoutMs?: number;
  /** Longest wait for a TCP connection to open (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Called with each 'error' event of the client (refused, reset, ...); must be cheap. */
  onError?: (error: Error) => void;
  /**
   * Connect now and resolve after the first attempt, whether Redis answered or not (a
   * failed attempt goes to `onError`, and the client keeps reconnecting). Default false:
   * the client connects on its first command.
   */
  connect?: boolean;
}

/** Default reply deadline: a cache or lock command answers in well under a millisecond. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
/** Default TCP connect deadline. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
/** Longest pause between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * An ioredis client that fails fast while Redis is down and recovers by itself: created
 * lazily (it connects on `connect()` or its first command), with a reply deadline
 * (`commandTimeout`), a connect deadline, reconnection forever with capped exponential
 * backoff, commands in flight rejected as soon as the connection drops
 * (`maxRetriesPerRequest: 0`) and never replayed on the next connection, and the offline
 * queue used for the first connection attempt only: a command sent before the first
 * connection is ready waits for it, and after that attempt (ready or failed) a command
 * sent while disconnected is rejected at once instead of queueing. Its 'error' events go
 * to `onError` (without a listener ioredis would print each one). ioredis is imported
 * now, not when this module loads.
 *
 * @example
 * ```ts
 * const client = await createRedisClient({ url: 'redis://127.0.0.1:6379/0', onError: log });
 * await client.connect().catch(() => {}); // optional: connect now rather than on first use
 * ```
 */
export async function createRedisClient(options: RedisClientOptions = {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const own = options.options ?? {};
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    retryStrategy: reconnectDelay,
    ...own,
  };
  const client = options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions);
  const onError = options.onError;
  client.on('error', (error: Error) => {
    try {
      onError?.(error);
    } catch {
      // A failing logger must not turn into an 'error' thrown inside ioredis.
    }
  });
  if (own.enableOfflineQueue === undefined) {
    // ioredis reads `options.enableOfflineQueue` on every command, so the switch takes
    // effect at once. 'close' also fires when the first attempt fails: from then on a
    // command sent while disconnected fails fast instead of waiting for a reconnection.
    const settle = () => {
      client.options.enableOfflineQueue = false;
      client.off('ready', settle);
      client.off('close', settle);
    };
    client.once('ready', settle);
    client.once('close', settle);
  }
  if (options.connect) await firstAttempt(client);
  return client;
}

/** Start connecting (unless the client already is) and wait until it is ready or failed. */
function firstAttempt(client: Redis): Promise<void> {
  if (client.status === 'ready' || client.status === 'end') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      client.off('ready', done);
      client.off('close', done);
      resolve();
    };
    client.once('ready', done);
    client.once('close', done);
    // The failure reaches onError as an 'error' event; the rejection adds nothing.
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}

/** Reconnect forever: 50 ms, 100 ms, 200 ms, ... up to 2 s, with ±20 % jitter. */
function reconnectDelay(attempt: number): number {
  const delay = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempt - 1, 10));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable", // disconnected, offline queue off
  'Connection is closed', // dropped mid-command, or the client was closed
  'Command timed out', // no reply within commandTimeout
  'Ready check failed',
];

// Server replies that mean "not serving now" (or "not to us"), unlike WRONGTYPE or a
// syntax error, which would fail the same way when Redis is healthy.
// NOAUTH/WRONGPASS are left out on purpose: a wrong password is a configuration fault that
// must fail loudly, not an outage to serve around.
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * A short reason for an outage error, for E_*_STORE_UNAVAILABLE messages and logs.
 *
 * @example
 * ```ts
 * redisOutageReason(new Error('Command timed out')); // 'no reply within the command timeout'
 * ```
 */
export function redisOutageReason(error: Error): string {
  const message = error.message;
  if (message.startsWith("Stream isn't writeable")) return 'not connected (reconnecting)';
  if (message.startsWith('Connection is closed')) return 'the connection is closed';
  if (message.startsWith('Command timed out')) return 'no reply within the command timeout';
  if (error.name === 'MaxRetriesPerRequestError') return 'the connection was lost';
  return message;
}

/**
 * Whether an error from an ioredis command means Redis cannot be reached or is not
 * serving (connection refused or lost, no reply in time, retries exhausted, the server
 * loading or refusing our credentials), as opposed to an answer about the command itself.
 *
 * @example
 * ```ts
 * if (isRedisUnavailable(error)) throw new E_CACHE_STORE_UNAVAILABLE('redis', reason);
 * ```
 */
export function isRedisUnavailable(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const message = error.message;
  return (
    UNAVAILABLE_MESSAGES.some((text) => message.startsWith(text)) ||
    UNAVAILABLE_REPLIES.test(message)
  );
}

/**
 * Close a client: QUIT when connected (pending replies arrive first), else disconnect(),
 * which also stops its reconnect loop: QUIT would wait for a connection that is down.
 *
 * @example
 * ```ts
 * await closeRedisClient(client);
 * ```
 */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
