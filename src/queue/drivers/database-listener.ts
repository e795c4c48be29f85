import type { Connection } from '../../db/index.js';

type PgClient = import('pg').Client;

const LISTENER_TIMEOUT_MS = 10_000;

/**
 * PostgreSQL LISTEN for the database queue driver: one dedicated client (not a pool
 * client: LISTEN lasts as long as its session, and a pooled client would be handed to
 * other queries), opened with the connection's own pool settings. Each NOTIFY names a
 * queue; `onJobs(queue)` wakes the workers waiting on it. When the session is lost
 * (`pg_terminate_backend`, a restart), every waiter is woken (it may have missed a
 * notification) and the next `start()` listens again.
 *
 * @example
 * ```ts
 * const listener = new PgJobListener(connection, 'keel_queue', (queue) => wake(queue));
 * await listener.start();
 * ```
 */
export class PgJobListener {
  readonly #connection: Connection;
  readonly #channel: string;
  readonly #onJobs: (queue: string | undefined) => void;
  #client: PgClient | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(
    connection: Connection,
    channel: string,
    onJobs: (queue: string | undefined) => void,
  ) {
    this.#connection = connection;
    this.#channel = channel;
    this.#onJobs = onJobs;
  }

  /** Listen, unless already listening; rejects when the server cannot be reached. */
  start(): Promise<void> {
    if (this.#closed || this.#client) return Promise.resolve();
    this.#starting ??= this.#open().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #open(): Promise<void> {
    // The pool exists once a query ran; its options carry host, user, database, ssl.
    if (this.#connection.native() === undefined) await this.#connection.ping();
    const pool = this.#connection.native<{ options: Record<string, unknown> }>();
    const { default: pg } = await import('pg');
    const { max: _max, min: _min, idleTimeoutMillis: _idle, ...settings } = pool?.options ?? {};
    // pg-pool keeps the password non-enumerable: the spread above leaves it out.
    const password = pool?.options.password;
    const client = new pg.Client({
      ...settings,
      // Bounded (0 means none to pg): a start that hangs would hold every later start().
      connectionTimeoutMillis: Number(settings.connectionTimeoutMillis) || LISTENER_TIMEOUT_MS,
      query_timeout: LISTENER_TIMEOUT_MS,
      ...(password === undefined ? {} : { password }),
    } as import('pg').ClientConfig);
    const lost = (): void => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      this.#onJobs(undefined);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => this.#onJobs(message.payload));
    await client.connect();
    try {
      // The channel is checked to be a plain lower-case identifier by the driver.
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  get listening(): boolean {
    return this.#client !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#starting?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
