/**
 * How an entry that carries metadata is stored: tags (with the tag versions it was written
 * under) or a grace period (a logical expiry before the physical one). Plain entries are
 * stored as the bare value, so a cache that uses neither pays nothing for them.
 *
 * The marker key starts with a control character: no JSON a user caches is likely to
 * hold it, and every store round-trips it (the serializer keeps plain objects as they are).
 */
export const ENVELOPE = '\u0001keel';

export interface Envelope {
  readonly [ENVELOPE]: 1;
  /** The cached value. */
  readonly v: unknown;
  /** Logical expiry (epoch ms): past it, the value is stale but servable within grace. */
  readonly x?: number;
  /** The tags the entry was written with. */
  readonly t?: readonly string[];
  /** Every tag of those tags' chains (`a`, `a:b`, `a:b:c`), in the order of `tv`. */
  readonly tc?: readonly string[];
  /** The version of each chain tag when the entry was written. */
  readonly tv?: readonly number[];
  /** The wildcard-invalidation sequence when the entry was written. */
  readonly ps?: number;
}

/** True when a stored value is an envelope (cheap for primitives, one lookup for objects). */
export function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[ENVELOPE] === 1
  );
}

/** Wrap `value` with its metadata. */
export function envelope(value: unknown, meta: Omit<Envelope, typeof ENVELOPE | 'v'>): Envelope {
  return { [ENVELOPE]: 1, v: value, ...meta };
}
