import { defineCacheConfig } from 'keel/cache';

// The demo runs on one process with nothing installed: memory stores. With Redis, set
// CACHE_DRIVER=tiered (memory L1 per process, Redis L2, invalidation over pub/sub).
export default defineCacheConfig({
  prefix: 'erp',
  pools: {
    // Catalogue reads (products, listing), invalidated by tag on every product write.
    catalog: { ttl: '10m' },
  },
});
