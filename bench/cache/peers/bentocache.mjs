// Bentocache, configured as its docs describe for production. Memory: one L1 memory
// driver with `serialize: false` (values held by reference, as Keel's memory store does;
// its default, true, stores JSON and parses it on every read). Redis: an L2-only store on
// its redis driver with its own ioredis connection. Tiered: memory L1 + Redis L2 + the
// Redis bus (pub/sub) that keeps the L1s of several instances in sync.
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { MAX_ENTRIES, TTL_SECONDS } from './shared.mjs';

export const packages = ['bentocache', 'ioredis'];

export function unavailable() {
  return undefined;
}

export async function open(kind, { prefix, redisUrl }) {
  const { Redis } = await import('ioredis');
  const memory = () => memoryDriver({ maxItems: MAX_ENTRIES, serialize: false });
  // Connections made here are closed here too: the bus keeps a given client open.
  const clients = [];
  const client = () => {
    const redis = new Redis(redisUrl);
    clients.push(redis);
    return redis;
  };
  let store = bentostore();
  if (kind === 'memory' || kind === 'tiered') store = store.useL1Layer(memory());
  if (kind === 'redis' || kind === 'tiered') {
    store = store.useL2Layer(redisDriver({ connection: client() }));
  }
  if (kind === 'tiered') store = store.useBus(redisBusDriver({ connection: client() }));
  // Bentocache joins the prefix and the key with ':'; strip the trailing one Keel uses.
  const bento = new BentoCache({
    default: 'cache',
    prefix: prefix.replace(/:$/, ''),
    ttl: TTL_SECONDS * 1000,
    stores: { cache: store },
  });
  return {
    get: (key) => bento.get({ key }),
    remember: (key, factory) => bento.getOrSet({ key, ttl: TTL_SECONDS * 1000, factory }),
    set: (key, value) => bento.set({ key, value, ttl: TTL_SECONDS * 1000 }),
    async close() {
      await bento.disconnectAll();
      for (const redis of clients) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
