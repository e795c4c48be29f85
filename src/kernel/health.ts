/** The state a health check reports. `warn` is degraded but serving. */
export type HealthCheckStatus = 'ok' | 'warn' | 'fail';

/** What one check found. */
export interface HealthCheckOutcome {
  status: HealthCheckStatus;
  message: string;
  /** Structured facts for `/health` and `health:check --json` (never secrets). */
  details?: Record<string, unknown>;
}

/** A registered check's outcome with its name and how long it took. */
export interface HealthCheckRun extends HealthCheckOutcome {
  name: string;
  latencyMs: number;
}

export interface HealthCheckOptions {
  /** Counts towards readiness (`/ready`); default true. Liveness never runs checks. */
  readiness?: boolean;
  /** Give up after this many ms and report `fail`; default 5 000. */
  timeoutMs?: number;
}

type Check = () => Promise<HealthCheckOutcome> | HealthCheckOutcome;

interface Entry {
  check: Check;
  readiness: boolean;
  timeoutMs: number;
}

/**
 * The application's health checks (database connections, Redis, queue backlog, ...).
 * Subsystems register theirs at boot; `health:check` and the readiness endpoint run them.
 * A check that throws or times out is a `fail`, never an exception out of `run()`.
 *
 * @example
 * ```ts
 * app.health.register('db:default', async () => {
 *   const ms = await connection.ping();
 *   return { status: 'ok', message: `answered in ${ms} ms` };
 * });
 * const results = await app.health.run();
 * ```
 */
export class HealthRegistry {
  readonly #checks = new Map<string, Entry>();

  register(name: string, check: Check, options: HealthCheckOptions = {}): this {
    this.#checks.set(name, {
      check,
      readiness: options.readiness ?? true,
      timeoutMs: options.timeoutMs ?? 5_000,
    });
    return this;
  }

  unregister(name: string): boolean {
    return this.#checks.delete(name);
  }

  names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Run every check (or the named ones, or the readiness ones) concurrently. */
  async run(
    filter: { names?: readonly string[]; readiness?: boolean } = {},
  ): Promise<HealthCheckRun[]> {
    const selected = [...this.#checks].filter(
      ([name, entry]) =>
        (filter.names === undefined || filter.names.includes(name)) &&
        (filter.readiness === undefined || entry.readiness === filter.readiness),
    );
    return Promise.all(selected.map(([name, entry]) => runOne(name, entry)));
  }
}

async function runOne(name: string, entry: Entry): Promise<HealthCheckRun> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthCheckOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'fail', message: `timed out after ${entry.timeoutMs} ms` }),
      entry.timeoutMs,
    );
    timer.unref();
  });
  let outcome: HealthCheckOutcome;
  try {
    outcome = await Promise.race([Promise.resolve().then(entry.check), timeout]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    outcome = {
      status: 'fail',
      message: typeof code === 'string' ? `${code}: ${message}` : message,
    };
  } finally {
    clearTimeout(timer);
  }
  return { name, ...outcome, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
}
