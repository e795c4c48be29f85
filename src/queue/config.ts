import { z } from 'zod';
import { E_QUEUE_CONFIG_INVALID } from './errors.js';

const duration = z.union([z.number().int().nonnegative(), z.string().min(1)]);

const connection = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('database'),
      /** The database connection (default: the default one). */
      connection: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      driver: z.literal('redis'),
      /** BullMQ's Redis (default: REDIS_URL, else redis://127.0.0.1:6379). */
      url: z.string().min(1).optional(),
      /** BullMQ's key prefix (default `keel-queue`). */
      prefix: z.string().min(1).max(100).optional(),
    })
    .strict(),
  z.object({ driver: z.literal('memory') }).strict(),
  z.object({ driver: z.literal('sync') }).strict(),
]);

export const queueConfigSchema = z
  .object({
    /** The connection dispatch uses (env QUEUE_CONNECTION). */
    default: z.string().min(1).optional(),
    connections: z.record(z.string().min(1), connection).default({}),
    /** The queue of jobs that name none. */
    defaultQueue: z.string().min(1).max(100).default('default'),
    /** Largest payload, as JSON bytes (default 1 MiB). */
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    worker: z
      .object({
        /** How long a claim holds a job without a heartbeat (ms or '60s'). */
        lease: duration.default('60s'),
        /** Longest idle wait between claims. */
        sleep: duration.default('1s'),
        /** How long SIGTERM lets running jobs finish before releasing them. */
        shutdown: duration.default('30s'),
        concurrency: z.number().int().positive().max(1000).default(1),
        /** The queues a worker takes from, in order of preference (default: [defaultQueue]). */
        queues: z.array(z.string().min(1).max(100)).min(1).optional(),
      })
      .strict()
      .default({ lease: '60s', sleep: '1s', shutdown: '30s', concurrency: 1 }),
    /**
     * Whether `keel serve` also runs a worker and the scheduler in its own process (default:
     * outside production). In production run `keel queue:work` and `keel schedule:work`.
     */
    inProcess: z.boolean().optional(),
  })
  .strict();

export type QueueConfig = z.output<typeof queueConfigSchema> & { default: string };
export type QueueConfigInput = z.input<typeof queueConfigSchema>;
export type QueueConnectionConfig = z.output<typeof connection>;

/**
 * Type a `config/queue.ts`.
 *
 * @example
 * ```ts
 * export default defineQueueConfig({ default: 'database', worker: { concurrency: 10 } });
 * ```
 */
export function defineQueueConfig(config: QueueConfigInput): QueueConfigInput {
  return config;
}

/**
 * Validate the `queue` config, add the built-in connections (`database`, `memory`, `sync`, `redis`)
 * and pick the default: the file's, else `QUEUE_CONNECTION`, else `database` when the app
 * has a database, else `memory`.
 */
export function resolveQueueConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
  hasDatabase: boolean,
): QueueConfig {
  const parsed = queueConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_QUEUE_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const config = parsed.data;
  const connections: Record<string, QueueConnectionConfig> = {
    database: { driver: 'database' },
    memory: { driver: 'memory' },
    sync: { driver: 'sync' },
    redis: { driver: 'redis', url: env('REDIS_URL') ?? 'redis://127.0.0.1:6379' },
    ...config.connections,
  };
  const chosen = config.default ?? env('QUEUE_CONNECTION') ?? (hasDatabase ? 'database' : 'memory');
  if (!Object.hasOwn(connections, chosen))
    throw new E_QUEUE_CONFIG_INVALID(
      'default',
      `names "${chosen}", which is not a connection (${Object.keys(connections).join(', ')})`,
    );
  return { ...config, connections, default: chosen };
}
