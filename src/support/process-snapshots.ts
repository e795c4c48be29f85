import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Awaitable } from './types.js';

/**
 * Per-process snapshot files: each serving process or worker writes its own counters to
 * `<folder>/<host>-<pid>.json` (never shared, so no locking), and a command, another
 * process, reads and adds them all up. The cache statistics (`var/state/cache-stats`) and
 * the metrics history (`var/state/metrics`) both work this way.
 */

/** What every process snapshot file starts with. */
export interface ProcessSnapshotHeader {
  pid: number;
  host: string;
  /** ISO time of the write. */
  updatedAt: string;
}

/** Whether the process of a snapshot runs: `elsewhere` when it was written on another host. */
export type ProcessState = 'running' | 'gone' | 'elsewhere';

const PROCESS_FILE = /^[A-Za-z0-9._-]+-\d+\.json$/;
// `writeFileAtomic`'s temp names: left behind only by a writer that died before its rename.
const TEMP_FILE = /\.json\.[0-9a-f]+\.tmp$/;

/**
 * The file name of a process's snapshot: the host name reduced to `[A-Za-z0-9.-]` (readers
 * take the host from the file's content, not from its name), then the pid.
 *
 * @example
 * ```ts
 * processSnapshotFileName('web 1', 42); // 'web_1-42.json'
 * ```
 */
export function processSnapshotFileName(host: string, pid: number): string {
  const safe = host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 100) || 'host';
  return `${safe}-${pid}.json`;
}

/**
 * Whether `name` is a process snapshot file name (`<host>-<pid>.json`): a folder's other
 * files (markers, notes, temp files) are not.
 *
 * @example
 * ```ts
 * isProcessSnapshotFile('web-42.json'); // true
 * isProcessSnapshotFile('reset.json'); // false
 * ```
 */
export function isProcessSnapshotFile(name: string): boolean {
  return PROCESS_FILE.test(name);
}

/**
 * Whether `pid` is a running process on this host (one owned by another user counts).
 *
 * @example
 * ```ts
 * isProcessRunning(process.pid); // true
 * ```
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Write `content` beside `file` and rename it over `file`: a reader sees the old file or the
 * new one, never half of one (rename is atomic within a file system). Creates the folder.
 *
 * @example
 * ```ts
 * await writeFileAtomic('var/state/metrics/web-42.json', '{}\n');
 * ```
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export interface PeriodicSnapshotWriterOptions<T extends object> {
  /** The folder of snapshot files; this process writes `<host>-<pid>.json` in it. */
  folder: string;
  /**
   * What to write now (`now` is the time of this write), or `undefined` to write nothing
   * this time. Its fields follow `pid`, `host`, `startedAt` and `updatedAt` in the file.
   */
  snapshot: (now: Date) => Awaitable<T | undefined>;
  /** Milliseconds between two writes; 0 writes only on `flush()` and `stop()`. */
  intervalMs: number;
  /** `JSON.stringify` indentation (default: none). */
  indent?: number;
  /** Told about the first write that fails (later failures are not repeated). */
  onError?: (error: unknown) => void;
  now?: () => Date;
  pid?: number;
  host?: string;
}

/**
 * Writes this process's snapshot file every `intervalMs` on an unref'd timer and once more
 * at `stop()`. Writes run one after the other (an older snapshot never renames over a newer
 * one), each atomically, and never reject: the first failure goes to `onError`.
 *
 * @example
 * ```ts
 * const writer = new PeriodicSnapshotWriter({
 *   folder: join(app.paths.state, 'metrics'),
 *   snapshot: () => (counted() ? { totals: totals() } : undefined),
 *   intervalMs: 10_000,
 * });
 * writer.start();
 * await writer.stop(); // at shutdown: one last write
 * ```
 */
export class PeriodicSnapshotWriter<T extends object> {
  readonly file: string;
  readonly pid: number;
  readonly host: string;
  /** ISO time the writer was made: the process's start, as far as readers know. */
  readonly startedAt: string;
  readonly #options: PeriodicSnapshotWriterOptions<T>;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<unknown> = Promise.resolve();
  #warned = false;
  #started = false;

  constructor(options: PeriodicSnapshotWriterOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.pid = options.pid ?? process.pid;
    this.host = options.host ?? hostname();
    this.startedAt = this.#now().toISOString();
    this.file = join(options.folder, processSnapshotFileName(this.host, this.pid));
  }

  /** Whether `start()` was called (and `stop()` not yet), with or without a timer. */
  get started(): boolean {
    return this.#started;
  }

  /** Start the periodic writes (no timer when `intervalMs` is 0 or one already runs). */
  start(): void {
    this.#started = true;
    if (this.#timer !== undefined || this.#options.intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.flush(), this.#options.intervalMs);
    // Snapshots must never keep a finished process alive.
    this.#timer.unref();
  }

  /** Write now, after any write under way. Resolves to whether a file was written. */
  flush(): Promise<boolean> {
    const next = this.#writing.then(() => this.#write());
    this.#writing = next;
    return next;
  }

  /** Stop the timer and write one last time. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#started = false;
    await this.flush();
  }

  async #write(): Promise<boolean> {
    try {
      const now = this.#now();
      const body = await this.#options.snapshot(now);
      if (body === undefined) return false;
      const data = {
        pid: this.pid,
        host: this.host,
        startedAt: this.startedAt,
        updatedAt: now.toISOString(),
        ...body,
      };
      await writeFileAtomic(this.file, `${JSON.stringify(data, null, this.#options.indent)}\n`);
      return true;
    } catch (error) {
      if (!this.#warned) {
        this.#warned = true;
        this.#options.onError?.(error);
      }
      return false;
    }
  }
}

export interface ReadProcessSnapshotsOptions {
  /** Files of processes gone (on this host) for longer than this are deleted. */
  goneRetentionMs: number;
  /** A larger file is not a snapshot and is skipped unread. */
  maxBytes: number;
  /** ISO time fields each file must hold, checked in this order (`updatedAt` always is). */
  timestamps?: readonly string[];
  now?: Date;
  /** This host's name (processes of other hosts are not checked). */
  host?: string;
  /** Whether a pid runs on this host; default {@link isProcessRunning}. */
  isRunning?: (pid: number) => boolean;
}

/** One process's snapshot, as read. */
export interface ProcessSnapshot<T> {
  /** The file's name in the folder. */
  file: string;
  state: ProcessState;
  data: T;
}

export interface ProcessSnapshotsRead<T> {
  /** By file name. */
  snapshots: Array<ProcessSnapshot<T>>;
  /** Files of processes gone for longer than the retention, deleted by this read. */
  removed: string[];
  /** Files that could not be read as snapshots, with why (left in place). */
  skipped: Array<{ file: string; reason: string }>;
}

/**
 * Read every `<host>-<pid>.json` file under `folder` (none when it does not exist). Each one
 * must be a JSON object of at most `maxBytes` with a positive `pid`, a `host` and valid
 * `timestamps`; `parse` checks the rest and returns the snapshot or why it is not one.
 * Processes of this host that no longer run are `gone`, and their files are deleted once
 * `goneRetentionMs` old; so are temp files a writer left when it died mid-write.
 *
 * @example
 * ```ts
 * const { snapshots, skipped } = await readProcessSnapshots(
 *   folder,
 *   (data) => (Array.isArray(data.pools) ? (data as unknown as MySnapshot) : 'no "pools"'),
 *   { goneRetentionMs: 86_400_000, maxBytes: 4 * 1024 * 1024 },
 * );
 * ```
 */
export async function readProcessSnapshots<T extends ProcessSnapshotHeader>(
  folder: string,
  parse: (data: Record<string, unknown>) => T | string,
  options: ReadProcessSnapshotsOptions,
): Promise<ProcessSnapshotsRead<T>> {
  const now = (options.now ?? new Date()).getTime();
  const host = options.host ?? hostname();
  const isRunning = options.isRunning ?? isProcessRunning;
  const read: ProcessSnapshotsRead<T> = { snapshots: [], removed: [], skipped: [] };
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const file = join(folder, name);
    if (TEMP_FILE.test(name)) {
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > options.goneRetentionMs) await rm(file, { force: true });
      continue;
    }
    if (!PROCESS_FILE.test(name)) continue;
    const data = await readSnapshotFile(file, parse, options);
    if (typeof data === 'string') {
      read.skipped.push({ file: name, reason: data });
      continue;
    }
    const state: ProcessState =
      data.host !== host ? 'elsewhere' : isRunning(data.pid) ? 'running' : 'gone';
    if (state === 'gone' && now - Date.parse(data.updatedAt) > options.goneRetentionMs) {
      await rm(file, { force: true });
      read.removed.push(name);
      continue;
    }
    read.snapshots.push({ file: name, state, data });
  }
  return read;
}

/** A snapshot file's content, or why it is not one (another version, a hand edit, junk). */
async function readSnapshotFile<T>(
  file: string,
  parse: (data: Record<string, unknown>) => T | string,
  options: ReadProcessSnapshotsOptions,
): Promise<T | string> {
  let text: string;
  try {
    const info = await stat(file);
    if (info.size > options.maxBytes) return `larger than ${options.maxBytes} bytes`;
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'not an object';
  // Own properties only: JSON.parse makes `"__proto__"` a plain key, never a prototype.
  const d = data as Record<string, unknown>;
  if (!Number.isSafeInteger(d.pid) || (d.pid as number) <= 0) return 'no valid "pid"';
  if (typeof d.host !== 'string' || d.host === '') return 'no valid "host"';
  const timestamps = options.timestamps ?? [];
  for (const field of timestamps.includes('updatedAt')
    ? timestamps
    : [...timestamps, 'updatedAt']) {
    const value = d[field];
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return `no valid "${field}"`;
  }
  return parse(d);
}
