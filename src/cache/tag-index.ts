import type { Awaitable } from '../support/index.js';
import type { Envelope } from './entry-envelope.js';
import { E_CACHE_INVALID_TAG } from './errors.js';
import type { CacheStore } from './store.js';

/** The longest tag accepted. */
export const MAX_TAG_LENGTH = 200;
/** Wildcard invalidations remembered; an entry older than this many is treated as stale. */
export const PATTERN_SLOTS = 256;

/** What a tagged entry records when it is written: its tags and their versions then. */
export interface TagStamp {
  t: readonly string[];
  tc: readonly string[];
  tv: readonly number[];
  ps: number;
}

/**
 * Tag invalidation by versions, kept in the cache's own store beside the entries.
 *
 * Each tag has a counter (`<prefix>\x01t:<tag>`), 0 until first invalidated. A tagged entry
 * records the counters of its tags and of their ancestors (`catalog`, `catalog:products`,
 * `catalog:products:42` for the tag `catalog:products:42`) when it is written; a read
 * compares them with the current ones, and any difference makes the entry a miss (and
 * deletes it). Invalidating a tag is one atomic increment, so invalidating `catalog:products`
 * reaches every entry tagged below it, and no per-entry bookkeeping (a Redis set of keys
 * per tag) exists to leak when entries expire on their own: the keys this index adds are
 * one counter per tag ever invalidated plus at most 257 for wildcards.
 *
 * Wildcard invalidations (`tenant:*:products`, `*` = one segment) cannot be a counter of a
 * tag no entry names; they go to a ring of {@link PATTERN_SLOTS} slots numbered by a
 * sequence counter. An entry records the sequence when written; on read, the patterns
 * added since are matched against its tags. An entry that fell more than the ring's size
 * behind, or whose slots were overwritten meanwhile, is treated as invalidated: the safe
 * side of a race is a miss.
 *
 * Versions are counters, not clocks: processes with skewed clocks cannot resurrect an
 * invalidated entry, and a value computed while its tag was invalidated is written with the
 * versions read before the factory ran, so it reads as stale.
 */
export class TagIndex {
  readonly #store: CacheStore;
  readonly #tagPrefix: string;
  readonly #seqKey: string;
  readonly #slotPrefix: string;

  constructor(store: CacheStore, prefix: string) {
    this.#store = store;
    this.#tagPrefix = `${prefix}\u0001t:`;
    this.#seqKey = `${prefix}\u0001p`;
    this.#slotPrefix = `${prefix}\u0001p:`;
  }

  /** The versions of `tags` (and their ancestors) now: what an entry written now records. */
  stamp(tags: readonly string[]): Awaitable<TagStamp> {
    const t = [...new Set(tags.map((tag) => checkTag(tag, false)))];
    const tc = chainOf(t);
    const read = this.#store.getMany([...tc.map((tag) => this.#tagPrefix + tag), this.#seqKey]);
    const build = (values: unknown[]): TagStamp => ({
      t,
      tc,
      tv: tc.map((_, i) => counter(values[i])),
      ps: counter(values[tc.length]),
    });
    return read instanceof Promise ? read.then(build) : build(read);
  }

  /** Whether an entry written with `entry`'s stamp has not been invalidated since. */
  isFresh(entry: Envelope): Awaitable<boolean> {
    const tc = entry.tc ?? [];
    const read = this.#store.getMany([...tc.map((tag) => this.#tagPrefix + tag), this.#seqKey]);
    const check = (values: unknown[]): Awaitable<boolean> => {
      for (const [i, expected] of (entry.tv ?? []).entries())
        if (counter(values[i]) !== expected) return false;
      const now = counter(values[tc.length]);
      const then = entry.ps ?? 0;
      if (now === then) return true;
      return this.#patternsSpare(entry.t ?? [], then, now);
    };
    return read instanceof Promise ? read.then(check) : check(read);
  }

  /**
   * Invalidate `tags`: every entry tagged with one of them, or below one of them, reads as
   * a miss from now on. A tag with a `*` segment is a wildcard.
   */
  async invalidate(tags: readonly string[]): Promise<void> {
    for (const raw of tags) {
      const tag = checkTag(raw, true);
      if (!tag.split(':').includes('*')) {
        await this.#store.increment(this.#tagPrefix + tag, 1);
        continue;
      }
      const n = await this.#store.increment(this.#seqKey, 1);
      await this.#store.set(this.#slotPrefix + (n % PATTERN_SLOTS), { p: tag, n }, undefined);
    }
  }

  /** True when none of the wildcards numbered (then, now] matches `tags`. */
  #patternsSpare(tags: readonly string[], then: number, now: number): Awaitable<boolean> {
    if (now < then || now - then > PATTERN_SLOTS) return false;
    const numbers: number[] = [];
    for (let n = then + 1; n <= now; n++) numbers.push(n);
    const read = this.#store.getMany(numbers.map((n) => this.#slotPrefix + (n % PATTERN_SLOTS)));
    const check = (slots: unknown[]): boolean =>
      slots.every((slot, i) => {
        const s = slot as { p?: unknown; n?: unknown } | undefined;
        // A slot missing or reused by a later wildcard: its pattern is unknown, so stale.
        if (typeof s?.p !== 'string' || s.n !== numbers[i]) return false;
        const pattern = s.p.split(':');
        return !tags.some((tag) => matches(pattern, tag.split(':')));
      });
    return read instanceof Promise ? read.then(check) : check(read);
  }
}

/** A pattern matches a tag it names, or any tag below it; `*` matches one segment. */
function matches(pattern: readonly string[], tag: readonly string[]): boolean {
  if (pattern.length > tag.length) return false;
  return pattern.every((segment, i) => segment === '*' || segment === tag[i]);
}

/** Every tag and its ancestors, once each: `a:b:c` → `a`, `a:b`, `a:b:c`. */
function chainOf(tags: readonly string[]): string[] {
  const chain = new Set<string>();
  for (const tag of tags) {
    let end = tag.indexOf(':');
    while (end !== -1) {
      chain.add(tag.slice(0, end));
      end = tag.indexOf(':', end + 1);
    }
    chain.add(tag);
  }
  return [...chain];
}

function counter(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/**
 * Throw E_CACHE_INVALID_TAG unless `tag` is a usable tag: 1–200 characters, no control
 * characters, `:`-separated non-empty segments; `*` segments only where wildcards are
 * allowed (invalidation), never in a tag an entry is written with.
 */
export function checkTag(tag: unknown, wildcards: boolean): string {
  if (typeof tag !== 'string')
    throw new E_CACHE_INVALID_TAG(String(tag), `expected a string, got ${typeof tag}`);
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH)
    throw new E_CACHE_INVALID_TAG(tag, `it must be 1 to ${MAX_TAG_LENGTH} characters long`);
  const printable = [...tag].map((c) => (isControl(c) ? '?' : c)).join('');
  if (printable !== tag)
    throw new E_CACHE_INVALID_TAG(printable, 'it contains a control character');
  const segments = tag.split(':');
  if (segments.some((s) => s === ''))
    throw new E_CACHE_INVALID_TAG(
      tag,
      'it has an empty segment (a leading, trailing or double ":")',
    );
  for (const segment of segments) {
    if (segment === '*') {
      if (!wildcards)
        throw new E_CACHE_INVALID_TAG(
          tag,
          'wildcards are for invalidation, not for tagging an entry',
        );
    } else if (segment.includes('*')) {
      throw new E_CACHE_INVALID_TAG(tag, 'a "*" must be a whole segment (tenant:*:products)');
    }
  }
  return tag;
}

function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 32 || code === 127;
}
