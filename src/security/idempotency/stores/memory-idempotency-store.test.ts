import { idempotencyStoreContract } from '../idempotency-store.contract.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';

idempotencyStoreContract('memory', async () => ({ store: new MemoryIdempotencyStore() }));
