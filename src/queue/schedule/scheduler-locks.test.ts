import { expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../../test/support/databases.js';
import type { Connection } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { LockManager } from '../../locks/lock-manager.js';
import { createKeelLocksTable } from '../../locks/migrations/create-keel-locks-table.js';
import { DatabaseLockStore } from '../../locks/stores/database-lock-store.js';
import { Schedule } from './schedule.js';
import { Scheduler } from './scheduler.js';

describeEachDialect('Scheduler locks on the database lock store', (database) => {
  /** Two "servers": each its own connection and lock manager, on one database. */
  async function servers(
    define: (schedule: Schedule) => void,
  ): Promise<{ schedulers: Scheduler[]; close: () => Promise<void> }> {
    const connections: Connection[] = [
      testConnection(database(), 'a'),
      testConnection(database(), 'b'),
    ];
    await createKeelLocksTable.up(connections[0]!.kysely);
    const schedulers = connections.map((connection) => {
      const schedule = new Schedule();
      define(schedule);
      const locks = new LockManager({ store: new DatabaseLockStore({ connection }) });
      return new Scheduler({ schedule, logger: createNullLogger(), locks });
    });
    return {
      schedulers,
      close: async () => {
        await createKeelLocksTable.down?.(connections[0]!.kysely);
        await Promise.all(connections.map((c) => c.close()));
      },
    };
  }

  it('onOneServer: two schedulers on one database run the task once per minute', async () => {
    const runs: string[] = [];
    const { schedulers, close } = await servers((schedule) => {
      schedule
        .call('nightly-report', ({ scheduledAt }) => {
          runs.push(scheduledAt.toISOString());
        })
        .onOneServer();
    });
    try {
      for (const minute of [
        '2026-05-05T10:00:00Z',
        '2026-05-05T10:01:00Z',
        '2026-05-05T10:02:00Z',
      ]) {
        const results = await Promise.all(schedulers.map((s) => s.runDue(new Date(minute))));
        expect(
          results
            .flat()
            .map((r) => r.status)
            .sort(),
        ).toEqual(['ran', 'skipped']);
      }
      expect(runs).toEqual([
        '2026-05-05T10:00:00.000Z',
        '2026-05-05T10:01:00.000Z',
        '2026-05-05T10:02:00.000Z',
      ]);
    } finally {
      await close();
    }
  });

  it('withoutOverlapping holds across servers until the run ends', async () => {
    let release = (): void => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const { schedulers, close } = await servers((schedule) => {
      schedule
        .call('import', async () => {
          runs++;
          await held;
        })
        .withoutOverlapping('10m');
    });
    try {
      const [a, b] = schedulers as [Scheduler, Scheduler];
      const first = a.runDue(new Date('2026-05-05T10:00:00Z'));
      await expect.poll(() => runs).toBe(1);
      expect(await b.runDue(new Date('2026-05-05T10:01:00Z'))).toMatchObject([
        { status: 'skipped', reason: 'overlapping' },
      ]);
      release();
      expect(await first).toMatchObject([{ status: 'ran' }]);
      expect(await b.runDue(new Date('2026-05-05T10:02:00Z'))).toMatchObject([{ status: 'ran' }]);
      expect(runs).toBe(2);
    } finally {
      await close();
    }
  });
});
