import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { requireService } from '../../../../test/support/services.js';
import { dropRedisPrefix } from '../__fixtures__/redis-prefix.js';
import { rateLimitStoreContract } from '../rate-limit-store.contract.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

describe.runIf(hasRedis)('redis rate-limit store', () => {
  rateLimitStoreContract('redis', async () => {
    const prefix = `keel-test:rl:${randomBytes(5).toString('hex')}`;
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    const store = new RedisRateLimitStore({ client, ownsClient: true });
    return {
      store,
      prefix,
      cleanup: async () => {
        await dropRedisPrefix(client, prefix);
        await store.close();
      },
    };
  });
});
