// What every peer caches and how long: one product record of ten fields, the same for all,
// kept for an hour (long past any run) so that every measured read is a hit.

/** The cached value: a small product record, as an app would cache a row it serves often. */
export function product(i) {
  return {
    id: i,
    sku: `CHAIR-${String(i).padStart(5, '0')}`,
    name: 'Ergonomic office chair',
    description: 'Mesh back, adjustable arms, lumbar support.',
    price: 249.9,
    currency: 'EUR',
    stock: 42,
    active: true,
    tags: ['office', 'chair', 'ergonomic'],
    updatedAt: '2026-11-27T10:00:00.000Z',
  };
}

/** TTL of every write, in seconds (each peer converts it to its own unit). */
export const TTL_SECONDS = 3600;

/** Room in every in-memory layer: more than the keys used, so nothing is evicted. */
export const MAX_ENTRIES = 10_000;

/** Throw when a peer that should have hit produced a miss (factories of remember hits). */
export function neverCalled() {
  throw new Error('factory called: a remember() that should hit missed');
}
