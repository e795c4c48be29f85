import { accessSync, appendFileSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createStream, type Options, type RotatingFileStream } from 'rotating-file-stream';
import { E_LOGGING_FILE_UNWRITABLE } from './errors.js';
import { LineBatcher } from './line-batcher.js';
import type { FileChannelConfig } from './logging-config.js';

export interface FileChannelOptions {
  /** The channel's name, for errors. */
  name: string;
  /** The log file, absolute. */
  file: string;
  config: FileChannelConfig;
  /** The clock rotation reads (tests move it to just before midnight). */
  clock?: () => Date;
  /** How long a line may wait to be written with others (ms, default 25). */
  batchDelayMs?: number;
}

const DAY_MS = 86_400_000;
const pad = (n: number): string => (n > 9 ? `${n}` : `0${n}`);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One log file, rotated by rotating-file-stream: by day or hour (UTC periods, the rotated
 * file named after the period it holds: `app-2026-11-27.log`), by size, or both; rotated
 * files gzipped on request, and pruned by count (`keep: 14`) or age (`keep: '14d'`).
 * `close()` writes out what is buffered; a line logged after it (the last words of a
 * shutdown) is appended synchronously, so none is lost.
 */
export class FileChannel {
  readonly name: string;
  readonly file: string;
  readonly #stream: RotatingFileStream;
  /** A turn's lines as one stream write: rfs pays a Writable's machinery per call. */
  readonly #batch: LineBatcher;
  readonly #clock: () => Date;
  readonly #keepDays: number | undefined;
  readonly #rotatedName: RegExp;
  #closed = false;
  #failed = false;
  /** Lines logged while the stream ends: appended once it has, to keep their order. */
  #late: string[] | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: FileChannelOptions) {
    const { config, file, name } = options;
    this.name = name;
    this.file = file;
    this.#clock = options.clock ?? (() => new Date());
    assertWritable(name, file);

    const dir = dirname(file);
    const ext = extname(file);
    const stem = basename(file, ext);
    const interval =
      config.rotate === 'daily' ? '1d' : config.rotate === 'hourly' ? '1h' : undefined;
    const size = interval ? config.size : config.rotate === false ? undefined : config.rotate;
    const gz = config.compress ? '.gz' : '';
    // rfs asks again with index + 1 while the name exists, so same-period rotations (by
    // size) get `.2`, `.3`...
    const generator = (time: Date | number | null, index?: number): string => {
      if (!(time instanceof Date)) return basename(file);
      const date = `${time.getUTCFullYear()}-${pad(time.getUTCMonth() + 1)}-${pad(time.getUTCDate())}`;
      const hour = config.rotate === 'hourly' ? `-${pad(time.getUTCHours())}` : '';
      const n = index !== undefined && index > 1 ? `.${index}` : '';
      return `${stem}-${date}${hour}${n}${ext}${gz}`;
    };
    this.#rotatedName = new RegExp(
      `^${escapeRegExp(stem)}-(\\d{4}-\\d{2}-\\d{2})(?:-\\d{2})?(?:\\.\\d+)?${escapeRegExp(ext)}(?:\\.gz)?$`,
    );
    this.#keepDays = typeof config.keep === 'string' ? Number.parseInt(config.keep, 10) : undefined;

    const rfsOptions: Options = {
      path: dir,
      ...(interval
        ? { interval, intervalBoundary: true, intervalUTC: true, initialRotation: true }
        : {}),
      ...(size ? { size } : {}),
      ...(typeof config.keep === 'number'
        ? { maxFiles: config.keep, history: `.${basename(file)}.history` }
        : {}),
      ...(config.compress ? { compress: 'gzip', omitExtension: true } : {}),
    };
    this.#stream = createStream(generator, rfsOptions);
    this.#batch = new LineBatcher(
      { write: (chunk) => this.#stream.write(chunk) },
      options.batchDelayMs === undefined ? {} : { maxDelayMs: options.batchDelayMs },
    );
    // rfs reads the time through this method only; it is first called once the file's
    // stat() returns, after this constructor.
    if (options.clock) (this.#stream as unknown as { now: () => Date }).now = options.clock;
    this.#stream.on('error', (error) => this.#fail(error));
    this.#stream.on('warning', (error: Error) =>
      process.emitWarning(`log channel "${name}": ${error.message}`, { code: 'KEEL_LOG_FILE' }),
    );
    if (this.#keepDays !== undefined) {
      this.#stream.on('rotated', () => void this.prune());
      void this.prune();
    }
  }

  /** Resolves on each completed rotation with the rotated file's path (tests, tooling). */
  onRotated(listener: (file: string) => void): () => void {
    this.#stream.on('rotated', listener);
    return () => this.#stream.off('rotated', listener);
  }

  write(line: string): void {
    if (this.#late !== undefined) {
      this.#late.push(line);
      return;
    }
    if (this.#closed || this.#failed) {
      try {
        appendFileSync(this.file, line);
      } catch {
        // Nowhere left to write: the failure was reported when the stream broke.
      }
      return;
    }
    this.#batch.write(line);
  }

  /** Delete rotated files older than `keep` days (by the date in their name). */
  async prune(): Promise<string[]> {
    if (this.#keepDays === undefined) return [];
    const now = this.#clock().getTime();
    const today = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate(),
    );
    const oldest = today - this.#keepDays * DAY_MS;
    const dir = dirname(this.file);
    const removed: string[] = [];
    try {
      for (const entry of await readdir(dir)) {
        const match = this.#rotatedName.exec(entry);
        if (!match || Date.parse(`${match[1]}T00:00:00Z`) >= oldest) continue;
        await unlink(join(dir, entry)).then(
          () => removed.push(entry),
          () => undefined,
        );
      }
    } catch (error) {
      process.emitWarning(
        `log channel "${this.name}": pruning failed: ${(error as Error).message}`,
        {
          code: 'KEEL_LOG_FILE',
        },
      );
    }
    return removed;
  }

  /** Write out what is buffered and close the file; later lines are appended synchronously. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#failed) {
        this.#closed = true;
        resolve();
        return;
      }
      this.#batch.flushSync();
      this.#late = [];
      const done = (): void => {
        if (this.#closed) return;
        const late = this.#late ?? [];
        this.#late = undefined;
        this.#closed = true;
        if (late.length > 0) this.write(late.join(''));
        resolve();
      };
      this.#stream.end(done);
      // end() may fail instead of finishing (the disk went away): do not hang the shutdown.
      this.#stream.once('error', done);
    });
    return this.#closing;
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    process.emitWarning(`log channel "${this.name}" failed: ${error.message}`, {
      code: 'KEEL_LOG_FILE',
    });
  }
}

/** Fail at boot, naming the channel, rather than losing every line later. */
function assertWritable(channel: string, file: string): void {
  try {
    // 0750, what `keel setup:permissions` and `health:check` expect of var/ and var/log.
    mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    // Checked without creating the file: a new empty file would carry today's mtime, which
    // rotation reads as the period it belongs to.
    const exists = existsSync(file);
    if (exists && !statSync(file).isFile()) throw new Error('not a regular file');
    accessSync(exists ? file : dirname(file), constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new E_LOGGING_FILE_UNWRITABLE(channel, file, reason);
  }
}
