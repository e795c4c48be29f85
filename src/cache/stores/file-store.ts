import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { E_CACHE_NOT_A_NUMBER } from '../errors.js';
import { deserialize, serializeBounded } from '../serializer.js';
import {
  type CacheEntry,
  type CacheStore,
  DEFAULT_MAX_VALUE_BYTES,
  expiryOf,
  isCounter,
  type SerializingStoreOptions,
} from '../store.js';

export interface FileStoreOptions extends SerializingStoreOptions {
  /** The folder entries live in (the pools' default: `var/cache/data`). */
  directory: string;
}

/**
 * One file per key. The file name is the SHA-256 of the key, so any key (unicode, `../`,
 * quotes, 250 characters) is a safe name, and the files fan out into 256 folders by the
 * hash's first byte. A file holds three lines: the expiry (epoch ms, 0 = never), the key
 * (so `flush(prefix)` can tell whose it is) as JSON, then the serialized value.
 *
 * Writes go to a temporary file renamed over the target: rename is atomic on one file
 * system, so a reader sees the old entry or the new one, never half of one. `add` and
 * `increment` are atomic within this process (one chain of operations per key); across
 * processes they are last-writer-wins, like Laravel's file store — use the database or
 * Redis store for counters shared by several processes.
 *
 * @example
 * ```ts
 * const store = new FileStore({ directory: app.paths.cache + '/data' });
 * ```
 */
export class FileStore implements CacheStore {
  readonly driver = 'file';
  readonly #dir: string;
  readonly #now: () => number;
  readonly #maxBytes: number;
  /** The tail of each key's operation chain, for add/increment atomicity in-process. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: FileStoreOptions) {
    this.#dir = options.directory;
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  async get(key: string): Promise<unknown> {
    return (await this.getEntry(key))?.value;
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    const file = this.#file(key);
    const text = await readFile(file, 'utf8').catch(ignoreMissing);
    if (text === undefined) return undefined;
    const entry = parseEntry(text);
    if (!entry || entry.key !== key) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.#now()) {
      await rm(file, { force: true });
      return undefined;
    }
    return { value: deserialize(entry.body), expiresAt: entry.expiresAt };
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    const body = serializeBounded(key, value, this.#maxBytes);
    await this.#write(key, body, expiryOf(ttlMs, this.#now()));
  }

  async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Promise<void> {
    // Serialize all first: an oversized value refuses the batch before anything is written.
    const bodies = entries.map(([key, value]) => serializeBounded(key, value, this.#maxBytes));
    const expiresAt = expiryOf(ttlMs, this.#now());
    await Promise.all(entries.map(([key], i) => this.#write(key, bodies[i]!, expiresAt)));
  }

  add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    const body = serializeBounded(key, value, this.#maxBytes);
    return this.#exclusive(key, async () => {
      if ((await this.getEntry(key)) !== undefined) return false;
      await this.#write(key, body, expiryOf(ttlMs, this.#now()));
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    const present = (await this.getEntry(key)) !== undefined;
    await rm(this.#file(key), { force: true });
    return present;
  }

  increment(key: string, by: number): Promise<number> {
    return this.#exclusive(key, async () => {
      const entry = await this.getEntry(key);
      if (entry !== undefined && !isCounter(entry.value)) throw new E_CACHE_NOT_A_NUMBER(key);
      const next = ((entry?.value as number | undefined) ?? 0) + by;
      await this.#write(key, String(next), entry?.expiresAt ?? 0);
      return next;
    });
  }

  async flush(prefix: string): Promise<void> {
    await this.#sweep((entry) => entry.key.startsWith(prefix));
  }

  gc(): Promise<number> {
    const now = this.#now();
    return this.#sweep((entry) => entry.expiresAt !== 0 && entry.expiresAt <= now);
  }

  /** Delete the entry files `match` picks; resolves to how many. */
  async #sweep(match: (entry: ParsedEntry) => boolean): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.#dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const folder = join(this.#dir, shard);
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const file = join(folder, name);
        const text = await readFile(file, 'utf8').catch(ignoreMissing);
        const entry = text === undefined ? undefined : parseEntry(text);
        if (entry && match(entry)) {
          await rm(file, { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  async #write(key: string, body: string, expiresAt: number): Promise<void> {
    const file = this.#file(key);
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const text = `${expiresAt}\n${JSON.stringify(key)}\n${body}`;
    try {
      await writeFile(temp, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(temp, text);
    }
    try {
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  #exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }

  #file(key: string): string {
    const hash = createHash('sha256').update(key).digest('hex');
    return join(this.#dir, hash.slice(0, 2), hash);
  }
}

interface ParsedEntry {
  expiresAt: number;
  key: string;
  body: string;
}

function parseEntry(text: string): ParsedEntry | undefined {
  const first = text.indexOf('\n');
  const second = text.indexOf('\n', first + 1);
  if (first < 0 || second < 0) return undefined;
  const expiresAt = Number(text.slice(0, first));
  if (!Number.isFinite(expiresAt)) return undefined;
  try {
    const key = JSON.parse(text.slice(first + 1, second)) as unknown;
    if (typeof key !== 'string') return undefined;
    return { expiresAt, key, body: text.slice(second + 1) };
  } catch {
    return undefined;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
  throw error;
}
