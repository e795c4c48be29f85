import { describe } from 'vitest';
import { runQueueDriverContract, type TestClock } from '../queue-driver.contract.js';
import { MemoryQueueDriver } from './memory-driver.js';

describe('MemoryQueueDriver', () => {
  runQueueDriverContract('memory', async (clock: TestClock) => {
    const driver = new MemoryQueueDriver({ now: () => clock.now });
    return { driver, expireLease: async (id) => driver.expireLease(id), sql: false };
  });
});
