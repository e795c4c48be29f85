// Job classes of the queue's crash-safety and load proofs (queue-processes.test.ts,
// queue-resilience.test.ts), shared by the tests and the worker child process so both
// register the same names. Their side effects go to tables the tests create:
// `proof_effects` (key primary key: a second run of a job fails on the unique index) and
// `proof_runs` (one row per attempt, no index: counts how often a job ran).
import { sql } from 'kysely';
import type { Connection } from '../../db/index.js';
import { Job, type JobContext } from '../job.js';
import { JobRegistry } from '../job-registry.js';

/** The connection the jobs write through (one per process). */
let target: Connection | undefined;

function connection(): Connection {
  if (!target) throw new Error('proof jobs: call useProofConnection() first');
  return target;
}

export function useProofConnection(next: Connection): void {
  target = next;
}

/** Create (or empty) the side-effect tables. */
export async function createProofTables(db: Connection): Promise<void> {
  await db.schema
    .createTable('proof_effects')
    .ifNotExists()
    .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('proof_runs')
    .ifNotExists()
    .addColumn('key', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .execute();
  await sql`DELETE FROM proof_effects`.execute(db.kysely);
  await sql`DELETE FROM proof_runs`.execute(db.kysely);
}

export async function dropProofTables(db: Connection): Promise<void> {
  await db.schema.dropTable('proof_effects').ifExists().execute();
  await db.schema.dropTable('proof_runs').ifExists().execute();
}

/** Inserts its key once: running twice fails on the primary key (E_DB_UNIQUE_VIOLATION). */
export class EffectJob extends Job<{ key: string }> {
  static override jobName = 'proof:effect';
  async handle(): Promise<void> {
    await connection()
      .insertInto('proof_effects')
      .values({ key: this.payload.key, pid: process.pid })
      .execute();
  }
}

/** The same effect in the job's completion transaction (exactly once with the database driver). */
export class TransactionalEffectJob extends Job<{ key: string; sleepMs?: number }> {
  static override jobName = 'proof:effect-transactional';
  static override options = { transactional: true, tries: 10 };
  async handle(): Promise<void> {
    await connection()
      .insertInto('proof_effects')
      .values({ key: this.payload.key, pid: process.pid })
      .execute();
    if (this.payload.sleepMs) await new Promise((r) => setTimeout(r, this.payload.sleepMs));
  }
}

/**
 * Records the attempt, prints `STARTED <key> <attempt>` and, on its first attempt, never
 * returns (the test kills the process); later attempts write the effect and complete.
 */
export class StallJob extends Job<{ key: string }> {
  static override jobName = 'proof:stall';
  async handle(ctx: JobContext): Promise<void> {
    await connection()
      .insertInto('proof_runs')
      .values({ key: this.payload.key, attempt: ctx.attempt, pid: process.pid })
      .execute();
    process.stdout.write(`STARTED ${this.payload.key} ${ctx.attempt}\n`);
    if (ctx.attempt === 1) await new Promise(() => undefined);
    await connection()
      .insertInto('proof_effects')
      .values({ key: this.payload.key, pid: process.pid })
      .execute();
  }
}

/** Records each attempt in `proof_runs`; throws on the attempt `failOn` names. */
export class CountJob extends Job<{ key: string; failOn?: number }> {
  static override jobName = 'proof:count';
  static override options = { tries: 3 };
  async handle(ctx: JobContext): Promise<void> {
    await connection()
      .insertInto('proof_runs')
      .values({ key: this.payload.key, attempt: ctx.attempt, pid: process.pid })
      .execute();
    if (ctx.attempt === this.payload.failOn) throw new Error(`failing attempt ${ctx.attempt}`);
  }
}

export function proofRegistry(): JobRegistry {
  const registry = new JobRegistry();
  registry.register(EffectJob, TransactionalEffectJob, StallJob, CountJob);
  return registry;
}
