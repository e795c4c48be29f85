// cache-manager 7 over Keyv, as its README sets it up. Memory: Keyv over Cacheable's
// KeyvCacheableMemory (the "fast in-memory cache with LRU and TTL" its docs recommend),
// with Keyv's JSON serialization switched off (`serialize`/`deserialize` undefined, as its
// docs say for in-memory use) so values are held by reference, as Keel's are. Redis:
// @keyv/redis's createKeyv, which brings its own node-redis (@redis/client) connection:
// that is the client cache-manager's docs use, not ioredis. Tiered: both, as `stores:
// [memory, redis]`; cache-manager has no bus, so other instances' L1s are not invalidated.
import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { createCache } from 'cache-manager';
import { KeyvCacheableMemory } from 'cacheable';
import { Keyv } from 'keyv';
import { MAX_ENTRIES, TTL_SECONDS } from './shared.mjs';

export const packages = ['cache-manager', 'keyv', 'cacheable', '@keyv/redis'];

export function unavailable() {
  return undefined;
}

function memoryKeyv() {
  const keyv = new Keyv({
    store: new KeyvCacheableMemory({ ttl: TTL_SECONDS * 1000, lruSize: MAX_ENTRIES }),
  });
  keyv.serialize = undefined;
  keyv.deserialize = undefined;
  return keyv;
}

export async function open(kind, { prefix, redisUrl }) {
  const stores = [];
  if (kind === 'memory' || kind === 'tiered') stores.push(memoryKeyv());
  if (kind === 'redis' || kind === 'tiered') {
    stores.push(createRedisKeyv(redisUrl, { namespace: prefix.replace(/:$/, '') }));
  }
  const cache = createCache({ stores, ttl: TTL_SECONDS * 1000 });
  return {
    get: (key) => cache.get(key),
    remember: (key, factory) => cache.wrap(key, factory, TTL_SECONDS * 1000),
    set: (key, value) => cache.set(key, value, TTL_SECONDS * 1000),
    close: () => cache.disconnect(),
  };
}
