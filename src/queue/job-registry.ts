import { E_QUEUE_INVALID_JOB } from './errors.js';
import { type JobClass, jobNameOf } from './job.js';

/**
 * Job classes by the name the queue stores: a worker finds a claimed job's class here.
 * Registering two different classes under one name is refused (the second would silently
 * run the first one's jobs).
 *
 * @example
 * ```ts
 * app.make('queue').register(SendInvoice, GenerateReport);
 * ```
 */
export class JobRegistry {
  readonly #classes = new Map<string, JobClass>();

  register(...classes: JobClass[]): void {
    for (const type of classes) {
      const name = jobNameOf(type);
      if (typeof name !== 'string' || name.length === 0 || name.length > 200)
        throw new E_QUEUE_INVALID_JOB(String(name), 'a job name must be 1 to 200 characters');
      const existing = this.#classes.get(name);
      if (existing !== undefined && existing !== type)
        throw new E_QUEUE_INVALID_JOB(
          name,
          'another job class is already registered under this name',
        );
      this.#classes.set(name, type);
    }
  }

  has(name: string): boolean {
    return this.#classes.has(name);
  }

  get(name: string): JobClass | undefined {
    return this.#classes.get(name);
  }

  names(): string[] {
    return [...this.#classes.keys()];
  }
}
