import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { APP_FILE, createFixtureApp, moduleFile } from '../../test/support/fixture-app.js';
import { keelProcesses } from '../../test/support/keel-process.js';
import { Connection } from '../db/index.js';
import { createNullLogger } from '../kernel/index.js';
import {
  AUTOSCALE_DEFAULTS,
  autoscaleOptions,
  childArgv,
  type SupervisedChild,
  Supervisor,
} from './autoscaler.js';
import { JobDispatcher } from './dispatcher.js';
import { DatabaseQueueDriver } from './drivers/database-driver.js';
import { Job } from './job.js';
import { JobRegistry } from './job-registry.js';
import { createQueueTables } from './migrations/create-queue-tables.js';
import { createQueueWorkersTable } from './migrations/create-queue-workers-table.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const QUEUE = fileURLToPath(new URL('./index.ts', import.meta.url));
const startKeel = keelProcesses();

describe('autoscale options', () => {
  it('reads --autoscale=min,max and the --scale-* flags, with defaults', () => {
    expect(autoscaleOptions({ autoscale: '2,8' })).toEqual({
      ...AUTOSCALE_DEFAULTS,
      min: 2,
      max: 8,
    });
    expect(
      autoscaleOptions({
        autoscale: ' 1 , 1 ',
        scaleBacklog: '5',
        scaleAge: '2m',
        scaleCooldown: '0',
        scaleInterval: '500ms',
      }),
    ).toMatchObject({
      min: 1,
      max: 1,
      backlogPerWorker: 5,
      maxAgeMs: 120_000,
      cooldownMs: 0,
      pollMs: 500,
    });
  });

  it.each([
    ['0,2'],
    ['3,2'],
    ['1,65'],
    ['4'],
    ['1,2,3'],
    ['-1,2'],
    ['1.5,2'],
    ['a,b'],
    [''],
    ['1,2; rm -rf /'],
    ['__proto__'],
    [true],
  ])('rejects --autoscale=%j', (value) => {
    expect(() => autoscaleOptions({ autoscale: value })).toThrow(
      /--autoscale must be "min,max" with 1 ≤ min ≤ max ≤ 64/,
    );
  });

  it('rejects bad --scale-* values', () => {
    const base = { autoscale: '1,2' };
    expect(() => autoscaleOptions({ ...base, scaleBacklog: '0' })).toThrow(/--scale-backlog/);
    expect(() => autoscaleOptions({ ...base, scaleBacklog: '2.5' })).toThrow(/--scale-backlog/);
    expect(() => autoscaleOptions({ ...base, scaleAge: 'soon' })).toThrow(/--scale-age/);
    expect(() => autoscaleOptions({ ...base, scaleCooldown: '-1s' })).toThrow(/--scale-cooldown/);
    // Polling more often than every 100 ms would load the database for nothing.
    expect(() => autoscaleOptions({ ...base, scaleInterval: '10ms' })).toThrow(/--scale-interval/);
  });

  it("gives the children queue:work's own flags, without the supervisor's or --json", () => {
    expect(
      childArgv([
        '--cwd',
        'app',
        'queue:work',
        '--autoscale=1,4',
        '--queue',
        'high,low',
        '--scale-backlog',
        '5',
        '--scale-age=10s',
        '--json',
        '--concurrency',
        '3',
      ]),
    ).toEqual(['--cwd', 'app', 'queue:work', '--queue', 'high,low', '--concurrency', '3']);
  });
});

class FakeChild implements SupervisedChild {
  static #pid = 100_000;
  readonly pid = FakeChild.#pid++;
  stops = 0;
  readonly kills: NodeJS.Signals[] = [];
  #exit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  #ready: (() => void) | undefined;
  stop(): void {
    this.stops++;
  }
  kill(signal: NodeJS.Signals): void {
    this.kills.push(signal);
    this.exit(null, signal);
  }
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#exit = listener;
  }
  onReady(listener: () => void): void {
    this.#ready = listener;
  }
  ready(): void {
    this.#ready?.();
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.#exit?.(code, signal);
  }
}

describe('Supervisor (fake children)', () => {
  it('scales down the newest first, re-sends a stop to a booting child, and kills on a second stop', async () => {
    const children: FakeChild[] = [];
    let ready = 6;
    const silent = { info() {}, warn() {}, error() {} };
    const supervisor = new Supervisor({
      ...AUTOSCALE_DEFAULTS,
      min: 1,
      max: 3,
      backlogPerWorker: 2,
      cooldownMs: 0,
      pollMs: 10,
      queues: ['default'],
      stats: async (queues) =>
        queues.map((queue) => ({
          queue,
          ready,
          waiting: ready,
          delayed: 0,
          running: 0,
          oldestAgeMs: 0,
          failed: 0,
        })),
      spawn: () => {
        const child = new FakeChild();
        children.push(child);
        return child;
      },
      logger: silent,
    });
    const finished = supervisor.run();
    const poll = { timeout: 10_000, interval: 10 };
    await expect.poll(() => supervisor.workers, poll).toBe(3);
    for (const child of children) child.ready();

    ready = 0;
    await expect.poll(() => supervisor.workers, poll).toBe(1);
    expect(children.map((c) => c.stops)).toEqual([0, 1, 1]);
    children[2]!.exit(0);
    expect(supervisor.size).toBe(2);

    // Back to work: a new child, stopped while it still boots.
    ready = 4;
    await expect.poll(() => children.length, poll).toBe(4);
    supervisor.stop('SIGTERM');
    expect(children.map((c) => c.stops)).toEqual([1, 1, 1, 1]);
    children[3]!.ready();
    expect(children[3]!.stops).toBe(2);
    children[0]!.exit(0);

    supervisor.stop('SIGTERM');
    expect(children[1]!.kills).toEqual(['SIGKILL']);
    expect(children[3]!.kills).toEqual(['SIGKILL']);
    expect(await finished).toBe(143);
    expect(supervisor.size).toBe(0);
  });
});

class Gate extends Job<{ key: string }> {
  static override jobName = 'fixture:gate';
  handle(): void {}
}

/** Each job waits for the `release` file, then writes `done/<key>`. */
const GATE_JOB = `import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job } from '${QUEUE}';
export class GateJob extends Job {
  static jobName = 'fixture:gate';
  async handle() {
    while (!existsSync(join(process.cwd(), 'release'))) await sleep(50);
    mkdirSync(join(process.cwd(), 'done'), { recursive: true });
    writeFileSync(join(process.cwd(), 'done', this.payload.key), String(process.pid));
  }
}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('queue:work --autoscale (real processes, SQLite)', () => {
  it('scales up for a backlog, restarts a killed child, and stops every child on SIGTERM', async () => {
    const fixture = await createFixtureApp({
      'keel.config.ts': APP_FILE,
      'run.mjs': `import { main } from '${MAIN}';\nawait main();\n`,
      'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
      // A short lease: the job of the child killed below runs again soon after.
      'config/queue.ts': `export default { worker: { lease: '2s', sleep: '100ms' } };\n`,
      'modules/work/module.ts': moduleFile(
        `{ name: 'work', version: '1.0.0', jobs: async () => [(await import('./gate-job.ts')).GateJob] }`,
      ),
      'modules/work/gate-job.ts': GATE_JOB,
    });
    const root = fixture.root;
    await mkdir(join(root, 'var/data'), { recursive: true });
    const connection = new Connection({
      name: 'default',
      config: {
        driver: 'sqlite',
        filename: join(root, 'var/data/app.sqlite'),
        wal: true,
        busyTimeoutMs: 5_000,
        foreignKeys: true,
        readonly: false,
      },
      root,
      logger: createNullLogger(),
    });
    const driver = new DatabaseQueueDriver({ connection });
    try {
      await createQueueTables.up(connection.kysely);
      await createQueueWorkersTable.up(connection.kysely);
      const registry = new JobRegistry();
      registry.register(Gate);
      const dispatcher = new JobDispatcher({ driver: () => driver, registry });
      const keys = Array.from({ length: 12 }, (_, i) => `job-${i}`);
      await driver.enqueue(
        keys.map((key) => dispatcher.toRecord(new Gate({ key }), { tries: 5 }, {})),
      );

      const { child, output, exited } = startKeel(root, [
        'run.mjs',
        'queue:work',
        '--autoscale=1,3',
        '--scale-backlog',
        '2',
        '--scale-interval',
        '200ms',
        '--scale-cooldown',
        '1h',
      ]);
      const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      const started = (): Map<number, number> =>
        new Map(
          [...output().matchAll(/worker #(\d+) started \(pid (\d+)\)/g)].map((m) => [
            Number(m[1]),
            Number(m[2]),
          ]),
        );
      const poll = { timeout: 60_000, interval: 100 };

      // 12 ready jobs at 2 per worker: up to the maximum of 3.
      await expect.poll(() => output(), poll).toMatch(/→ 3 workers \(\d+ jobs ready/);
      await expect.poll(() => started().size, poll).toBe(3);
      // Once ready, each child holds one job (concurrency 1) until the release.
      for (const n of [1, 2, 3]) {
        await expect.poll(() => output(), poll).toContain(`worker #${n} ready`);
      }

      const victim = started().get(2)!;
      process.kill(victim, 'SIGKILL');
      await expect
        .poll(() => output(), poll)
        .toContain(`worker #2 (pid ${victim}) killed by SIGKILL; restarting`);
      await expect.poll(() => output(), poll).toContain('worker #4 ready');

      await writeFile(join(root, 'release'), 'go');
      const jobsLeft = async (): Promise<number> => {
        const { rows } = await sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM jobs`.execute(
          connection.kysely,
        );
        return Number(rows[0]?.n);
      };
      await expect.poll(jobsLeft, poll).toBe(0);
      expect((await readdir(join(root, 'done'))).sort()).toEqual([...keys].sort());

      const pids = [...started().values()];
      expect(pids.length).toBeGreaterThanOrEqual(4);
      child.kill('SIGTERM');
      expect(await exited).toBe(null);
      expect(await code).toBe(0);
      expect(output()).toContain('autoscale: every worker stopped');
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      const failed = await sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM failed_jobs`.execute(
        connection.kysely,
      );
      expect(Number(failed.rows[0]?.n)).toBe(0);
    } finally {
      await driver.close();
      await connection.close();
      await fixture.cleanup();
    }
  }, 120_000);
});
