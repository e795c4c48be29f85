import { rateLimitStoreContract } from '../rate-limit-store.contract.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

rateLimitStoreContract('memory', async () => ({
  store: new MemoryRateLimitStore(),
  prefix: 'test:rl',
}));
