// Keel's cache, from the built framework (`npm run build` at the repo root makes dist/).
// Memory: Cache over MemoryStore (values held by reference, lru-cache underneath). Redis:
// RedisStore with its own ioredis client. Tiered: TieredStore (memory L1 over Redis L2,
// invalidated over Redis pub/sub), loaded only when dist/ has it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_ENTRIES, TTL_SECONDS } from './shared.mjs';

const DIST = fileURLToPath(new URL('../../../dist/cache/', import.meta.url));
const TIERED = `${DIST}stores/tiered-store.js`;
const BUS = `${DIST}stores/redis-invalidation-bus.js`;

export const packages = ['ioredis'];

/** Why a kind cannot run on this build, or undefined when it can. */
export function unavailable(kind) {
  if (!existsSync(`${DIST}index.js`)) return 'dist/cache/index.js missing (npm run build)';
  if (kind === 'tiered' && !(existsSync(TIERED) && existsSync(BUS)))
    return 'dist/cache/stores/tiered-store.js or redis-invalidation-bus.js not built yet';
  return undefined;
}

export async function open(kind, { prefix, redisUrl }) {
  const { Cache, MemoryStore } = await import(`${DIST}index.js`);
  const closers = [];
  let store;
  if (kind === 'memory') {
    store = new MemoryStore({ maxEntries: MAX_ENTRIES });
  } else {
    const { RedisStore } = await import(`${DIST}stores/redis-store.js`);
    const tiered = kind === 'tiered' ? await import(TIERED) : undefined;
    const { RedisInvalidationBus } = kind === 'tiered' ? await import(BUS) : {};
    const l2 = await RedisStore.connect({ url: redisUrl });
    closers.push(() => l2.close());
    if (kind === 'redis') {
      store = l2;
    } else {
      const { TieredStore } = tiered;
      const bus = await RedisInvalidationBus.connect({ url: redisUrl, channel: `${prefix}bus` });
      store = new TieredStore({ l1: new MemoryStore({ maxEntries: MAX_ENTRIES }), l2, bus });
      await store.ready?.();
      // The tier closes its bus; L2 belongs to whoever made it (here).
      closers.unshift(() => (typeof store.close === 'function' ? store.close() : bus.close()));
    }
  }
  const cache = new Cache({ store, prefix });
  return {
    get: (key) => cache.get(key),
    remember: (key, factory) => cache.remember(key, TTL_SECONDS, factory),
    set: (key, value) => cache.set(key, value, TTL_SECONDS),
    async close() {
      // The tier (closing its bus) first, then L2; a failed close does not stop the rest.
      for (const close of closers) await Promise.resolve(close()).catch(() => {});
    },
  };
}
