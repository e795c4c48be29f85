import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import type { ErrorEvent, ErrorReporter } from './error-reporter.js';
import { E_ERROR_SNAPSHOT_INVALID } from './errors.js';
import { describeThrown, safeIsKeelError, stackLines, truncate } from './safe-error.js';

/** One group of errors sharing a fingerprint. */
export interface ErrorGroup {
  fingerprint: string;
  /** The `E_*` code, a Node code (`ECONNREFUSED`), the error name, or the kind of value thrown. */
  code: string;
  /** The route pattern, `''` outside a matched route. */
  route: string;
  /** The top application frame, `file:function` (no line or column). */
  frame: string;
  status: number;
  count: number;
  /** ISO timestamps. */
  firstSeen: string;
  lastSeen: string;
  lastMessage: string;
  /** The request id of the latest occurrence, to find it in the logs. */
  sampleRequestId?: string;
}

/** What `var/state/errors.json` holds. */
export interface ErrorSnapshot {
  version: 1;
  /** When the snapshot was written; `null` when no snapshot exists yet. */
  updatedAt: string | null;
  pid?: number;
  groups: ErrorGroup[];
}

export interface ErrorAggregatorOptions {
  /** Snapshot file; no persistence without one. The HTTP provider passes `var/state/errors.json`. */
  file?: string;
  /** Most groups kept; the least recently seen is dropped past it. Default 500. */
  maxGroups?: number;
  /** Shortest interval between two snapshot writes, in ms. Default 5000. */
  writeIntervalMs?: number;
  /** Stack paths are shown relative to it. Default `process.cwd()`. */
  root?: string;
  /** Called when a snapshot cannot be written (the aggregator itself never throws). */
  onWriteError?: (error: unknown) => void;
  now?: () => Date;
}

const MAX_MESSAGE = 300;
const NODE_CODE = /^[A-Z][A-Z0-9_]*$/;
// `at fn (file:1:2)`, `at file:1:2`, `at async fn (file:1:2)`, `at new Foo (file:1:2)`.
const FRAME = /^at (?:(.+?) \()?(.+?)(?::\d+){1,2}\)?$/;

/**
 * The frame an error group is keyed on: the first frame outside Node internals and
 * `node_modules` (else the first frame), as `file:function`. Line and column are dropped so
 * an unrelated edit or a new deploy does not split a group; query strings (`?t=…` added by
 * dev loaders) and `file://` are dropped, paths made relative to `root`.
 */
export function topFrame(stack: readonly string[] | undefined, root = process.cwd()): string {
  const frames: Array<{ fn: string; file: string }> = [];
  for (const line of stack ?? []) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const fn = (match[1] ?? '<anonymous>').replace(/^async /, '');
    frames.push({ fn, file: normaliseFile(match[2] ?? '', root) });
  }
  const app = frames.find(
    (f) => !f.file.startsWith('node:') && !f.file.includes('node_modules/') && f.file !== 'native',
  );
  const chosen = app ?? frames[0];
  return chosen ? `${chosen.file}:${chosen.fn}` : '';
}

function normaliseFile(location: string, root: string): string {
  let file = location.replace(/^file:\/\//, '').replace(/[?#].*$/, '');
  if (isAbsolute(file)) {
    const rel = relative(root, file);
    if (!rel.startsWith('..')) file = rel;
  }
  return file.split(sep).join('/');
}

/** The grouping key of an error: what it is, where it was thrown, on which route. */
export function errorKey(error: unknown): string {
  const described = describeThrown(error);
  if (safeIsKeelError(error) && described.code) return described.code;
  if (described.code && NODE_CODE.test(described.code)) return described.code;
  return described.name;
}

/**
 * Groups reported errors by fingerprint (error code or name + route + top application frame,
 * hashed) with counts and first/last seen, keeps the 500 most recently seen groups, and
 * writes them to a JSON snapshot that `keel errors:top` reads from another process.
 *
 * @example
 * ```ts
 * const aggregator = new ErrorAggregator({ file: `${app.paths.state}/errors.json` });
 * reporters.add(aggregator.reporter);
 * aggregator.top(5); // [{ code: 'E_DB_TIMEOUT', route: '/orders', count: 12, ... }]
 * ```
 */
export class ErrorAggregator {
  readonly #groups = new Map<string, ErrorGroup>();
  readonly #file: string | undefined;
  readonly #maxGroups: number;
  readonly #interval: number;
  readonly #root: string;
  readonly #now: () => Date;
  readonly #onWriteError: ((error: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: ErrorAggregatorOptions = {}) {
    this.#file = options.file;
    this.#maxGroups = Math.max(1, Math.floor(options.maxGroups ?? 500));
    this.#interval = Math.max(0, options.writeIntervalMs ?? 5000);
    this.#root = options.root ?? process.cwd();
    this.#now = options.now ?? (() => new Date());
    this.#onWriteError = options.onWriteError;
  }

  /** A reporter recording every reported error; add it to the `ErrorReporterRegistry`. */
  readonly reporter: ErrorReporter = (event) => {
    this.record(event);
  };

  /** How many groups are kept. */
  get size(): number {
    return this.#groups.size;
  }

  /** Count one occurrence; returns its group. */
  record(event: Pick<ErrorEvent, 'error' | 'status'> & Partial<ErrorEvent>): ErrorGroup {
    const code = truncate(errorKey(event.error), 200);
    const route = typeof event.route === 'string' ? truncate(event.route, 500) : '';
    const frame = topFrame(stackLines(event.error), this.#root);
    const fingerprint = createHash('sha1')
      .update(`${code}\n${route}\n${frame}`)
      .digest('hex')
      .slice(0, 16);
    const now = this.#now().toISOString();
    const message = truncate(describeThrown(event.error).message, MAX_MESSAGE);
    const existing = this.#groups.get(fingerprint);
    const group: ErrorGroup = existing ?? {
      fingerprint,
      code,
      route,
      frame,
      status: event.status,
      count: 0,
      firstSeen: now,
      lastSeen: now,
      lastMessage: message,
    };
    group.count += 1;
    group.lastSeen = now;
    group.lastMessage = message;
    group.status = event.status;
    if (event.requestId !== undefined) group.sampleRequestId = truncate(event.requestId, 200);
    this.#touch(group);
    this.#scheduleWrite();
    return group;
  }

  /** The `n` largest groups, by count then most recent. */
  top(n = 20): ErrorGroup[] {
    return sortGroups([...this.#groups.values()]).slice(0, Math.max(0, n));
  }

  /** The current groups as a snapshot object. */
  snapshot(): ErrorSnapshot {
    return {
      version: 1,
      updatedAt: this.#now().toISOString(),
      pid: process.pid,
      groups: sortGroups([...this.#groups.values()]).map((group) => ({ ...group })),
    };
  }

  /** Forget every group (and write the empty snapshot on the next flush). */
  clear(): void {
    this.#groups.clear();
    this.#dirty = true;
  }

  /**
   * Load the groups of the snapshot file, so counts survive a restart. Groups already in
   * memory win; a missing file loads nothing.
   */
  async load(): Promise<void> {
    if (!this.#file) return;
    const snapshot = await ErrorAggregator.readSnapshot(this.#file);
    const byRecency = [...snapshot.groups].sort((a, b) => a.lastSeen.localeCompare(b.lastSeen));
    // Loaded groups are older than anything seen by this process: they go first in LRU order.
    const current = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of byRecency) this.#touch(group);
    for (const group of current) this.#touch(group);
  }

  /** Write the snapshot now if anything changed since the last write. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#file || !this.#dirty) return this.#writing;
    this.#dirty = false;
    const file = this.#file;
    const json = `${JSON.stringify(this.snapshot(), null, 2)}\n`;
    // Chained so two flushes never rename over each other out of order.
    this.#writing = this.#writing.then(() =>
      writeAtomic(file, json).catch((error: unknown) => {
        this.#dirty = true;
        this.#onWriteError?.(error);
      }),
    );
    return this.#writing;
  }

  /** Write what is pending and stop the write timer. */
  async close(): Promise<void> {
    await this.flush();
  }

  /**
   * Read a snapshot written by an aggregator in another process. A missing file is an empty
   * snapshot; unreadable or malformed content is `E_ERROR_SNAPSHOT_INVALID`.
   *
   * @example
   * ```ts
   * const { groups } = await ErrorAggregator.readSnapshot(`${app.paths.state}/errors.json`);
   * ```
   */
  static async readSnapshot(file: string): Promise<ErrorSnapshot> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { version: 1, updatedAt: null, groups: [] };
      }
      throw new E_ERROR_SNAPSHOT_INVALID(file, describeThrown(error).message).withCause(error);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new E_ERROR_SNAPSHOT_INVALID(file, 'not JSON').withCause(error);
    }
    const record = data as Partial<ErrorSnapshot> | null;
    if (record === null || typeof record !== 'object' || !Array.isArray(record.groups)) {
      throw new E_ERROR_SNAPSHOT_INVALID(file, 'expected an object with a "groups" array');
    }
    return {
      version: 1,
      updatedAt: typeof record.updatedAt === 'string' ? record.updatedAt : null,
      ...(typeof record.pid === 'number' ? { pid: record.pid } : {}),
      groups: record.groups.flatMap((group) => {
        const valid = readGroup(group);
        return valid ? [valid] : [];
      }),
    };
  }

  // Map order is recency order: delete and re-insert moves a group to the end, so the first
  // key is always the least recently seen one to evict.
  #touch(group: ErrorGroup): void {
    this.#groups.delete(group.fingerprint);
    this.#groups.set(group.fingerprint, group);
    while (this.#groups.size > this.#maxGroups) {
      const oldest = this.#groups.keys().next().value;
      if (oldest === undefined) break;
      this.#groups.delete(oldest);
    }
  }

  #scheduleWrite(): void {
    this.#dirty = true;
    if (!this.#file || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#interval);
    // The snapshot is a convenience: it must never keep a finished process alive.
    this.#timer.unref();
  }
}

function sortGroups(groups: ErrorGroup[]): ErrorGroup[] {
  return groups.sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen));
}

// Older or newer writers may differ: keep what is usable, skip what is not.
function readGroup(value: unknown): ErrorGroup | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const g = value as Record<string, unknown>;
  if (typeof g.fingerprint !== 'string' || typeof g.count !== 'number') return undefined;
  const text = (key: string): string => (typeof g[key] === 'string' ? (g[key] as string) : '');
  return {
    fingerprint: g.fingerprint,
    code: text('code'),
    route: text('route'),
    frame: text('frame'),
    status: typeof g.status === 'number' ? g.status : 500,
    count: g.count,
    firstSeen: text('firstSeen'),
    lastSeen: text('lastSeen'),
    lastMessage: text('lastMessage'),
    ...(typeof g.sampleRequestId === 'string' ? { sampleRequestId: g.sampleRequestId } : {}),
  };
}

// Write beside the target and rename over it: a reader sees the old file or the new one,
// never half of one (rename is atomic within a file system).
async function writeAtomic(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
