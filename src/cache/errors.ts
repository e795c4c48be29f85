import { defineError } from '../support/index.js';

/**
 * The cache catalogue: keys and values refused before they reach a store (500: a
 * programming error in the caller), configuration faults raised at boot, and store
 * faults (503 when the backing service is unreachable).
 */

export const E_CACHE_INVALID_KEY = defineError(
  'E_CACHE_INVALID_KEY',
  (key: string, reason: string) => `Invalid cache key "${key.slice(0, 80)}": ${reason}`,
  {
    status: 500,
    help: 'Use a non-empty string key of at most 250 characters without NUL characters and not starting with a control character (reserved for tags); hash longer or binary keys first.',
    details: (key, reason) => ({ key: key.slice(0, 250), reason }),
  },
);

export const E_CACHE_INVALID_VALUE = defineError(
  'E_CACHE_INVALID_VALUE',
  (key: string, reason: string) => `Cannot cache the value of "${key.slice(0, 80)}": ${reason}`,
  {
    status: 500,
    help: 'Cache plain data (objects, arrays, strings, numbers, booleans, null, Date, Map, Set, BigInt, Buffer); use delete() rather than caching undefined.',
    details: (key, reason) => ({ key: key.slice(0, 250), reason }),
  },
);

export const E_CACHE_VALUE_TOO_LARGE = defineError(
  'E_CACHE_VALUE_TOO_LARGE',
  (key: string, bytes: number, limit: number) =>
    `The value of cache key "${key.slice(0, 80)}" is ${bytes} bytes, over the store's limit of ${limit}`,
  {
    status: 500,
    help: "Cache a smaller value, or raise the store's maxValueBytes (memory: maxEntryBytes) in config/cache.ts.",
    details: (key, bytes, limit) => ({ key: key.slice(0, 250), bytes, limit }),
  },
);

export const E_CACHE_INVALID_TAG = defineError(
  'E_CACHE_INVALID_TAG',
  (tag: string, reason: string) => `Invalid cache tag "${tag.slice(0, 80)}": ${reason}`,
  {
    status: 500,
    help: 'Use tags of 1 to 200 characters made of ":"-separated non-empty segments (catalog:products:42); "*" segments only when invalidating.',
    details: (tag, reason) => ({ tag: tag.slice(0, 200), reason }),
  },
);

export const E_CACHE_FACTORY_TIMEOUT = defineError(
  'E_CACHE_FACTORY_TIMEOUT',
  (key: string, ms: number) =>
    `The value of cache key "${key.slice(0, 80)}" was not computed within ${ms} ms`,
  {
    status: 503,
    help: 'The factory passed to remember() is slower than its hardTimeout: make it faster, raise hardTimeout, or add a grace period so a stale value can be served meanwhile.',
    details: (key, ms) => ({ key: key.slice(0, 250), timeoutMs: ms }),
  },
);

export const E_CACHE_INVALID_TTL = defineError(
  'E_CACHE_INVALID_TTL',
  (ttl: string) => `Invalid cache TTL ${ttl}`,
  {
    status: 500,
    help: 'Give a TTL as seconds (a positive finite number) or a duration string such as "30s", "10m" or "1h"; use rememberForever() for no expiry.',
    details: (ttl) => ({ ttl }),
  },
);

export const E_CACHE_NOT_A_NUMBER = defineError(
  'E_CACHE_NOT_A_NUMBER',
  (key: string) => `Cannot increment cache key "${key.slice(0, 80)}": its value is not an integer`,
  {
    status: 500,
    help: 'increment() and decrement() work on integer values (or missing keys, which count from 0); use set() for other values.',
    details: (key) => ({ key: key.slice(0, 250) }),
  },
);

export const E_CACHE_CONFIG_INVALID = defineError(
  'E_CACHE_CONFIG_INVALID',
  (path: string, reason: string) => `Invalid cache config at "${path}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/cache.ts (or CACHE_DRIVER / CACHE_PREFIX); see docs/cache.md for every option.',
    details: (path) => ({ path }),
  },
);

export const E_CACHE_POOL_NOT_FOUND = defineError(
  'E_CACHE_POOL_NOT_FOUND',
  (name: string, known: string[]) =>
    `No cache pool named "${name}"; configured: ${known.join(', ') || 'none'}`,
  {
    status: 500,
    help: 'Use a pool name from `pools` in config/cache.ts (config, runtime, views, data by default), or add it there.',
    details: (name, known) => ({ name, known }),
  },
);

export const E_CACHE_STORE_UNAVAILABLE = defineError(
  'E_CACHE_STORE_UNAVAILABLE',
  (driver: string, reason: string) => `The ${driver} cache store is unavailable: ${reason}`,
  {
    status: 503,
    help: 'Check that the backing service (Redis, the database) runs and that the cache store config points at it.',
    details: (driver, reason) => ({ driver, reason }),
  },
);

export const E_CACHE_UNSCOPED_FLUSH = defineError(
  'E_CACHE_UNSCOPED_FLUSH',
  (driver: string) => `Refusing to flush the ${driver} cache store without a key prefix`,
  {
    status: 500,
    help: 'Give the pool or store a prefix (CACHE_PREFIX, or `prefix` in config/cache.ts): a shared store is flushed by prefix, never whole.',
    details: (driver) => ({ driver }),
  },
);

export const E_CACHE_WARMER_DUPLICATE = defineError(
  'E_CACHE_WARMER_DUPLICATE',
  (name: string) => `A cache warmer named "${name.slice(0, 100)}" is already registered`,
  {
    status: 500,
    help: 'Give each cache warmer a unique name, prefixed with its module (`catalog:products`); register it once, from one provider.',
    details: (name) => ({ name: name.slice(0, 100) }),
  },
);

export const E_CACHE_WARMER_INVALID = defineError(
  'E_CACHE_WARMER_INVALID',
  (name: string, reason: string) => `Invalid cache warmer "${name.slice(0, 100)}": ${reason}`,
  {
    status: 500,
    help: 'Register a warmer as { name, pool?, description?, warm(cache, progress) } with a name of letters, digits and `:._-` (at most 100 characters).',
    details: (name, reason) => ({ name: name.slice(0, 100), reason }),
  },
);

export const E_CACHE_WARMER_NOT_FOUND = defineError(
  'E_CACHE_WARMER_NOT_FOUND',
  (name: string, known: string[]) =>
    `No cache warmer named "${name.slice(0, 100)}"; registered: ${known.join(', ') || 'none'}`,
  {
    status: 500,
    help: 'Use a name `keel cache:warm --list` shows, or check that the module registering the warmer is enabled.',
    details: (name, known) => ({ name: name.slice(0, 100), known }),
  },
);
