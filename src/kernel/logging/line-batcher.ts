/** Where a {@link LineBatcher} hands its batches: a sonic-boom, a file channel's stream. */
export interface LineTarget {
  /** A batch of whole lines, UTF-8; the batcher never touches the bytes again. */
  write(chunk: Buffer): unknown;
  flushSync?(): void;
  end?(): void;
}

export interface LineBatcherOptions {
  /** Hand the batch over once it holds this many bytes (default 64 KiB). */
  maxPending?: number;
  /** Hand it over at the latest this long after its first line, in ms (default 25). */
  maxDelayMs?: number;
}

/**
 * Collects log lines and hands them to the target as one write, `maxDelayMs` after the
 * first (25 ms by default) or as soon as `maxPending` is reached. A busy server logs a
 * line per request, and each write to a file or a pipe costs a system call made by a
 * libuv thread that competes with the event loop for the core (~10 µs a write, measured
 * on the HTTP benchmark); sonic-boom also measures its whole pending buffer with
 * `Buffer.byteLength` on every write. Batched, a line costs its copy into the batch's
 * buffer: encoded at once, the line's string dies young, where a batch kept as a string
 * (a rope of lines) lived long enough to be promoted and collected by the old generation's
 * GC, then was copied again to be written.
 *
 * Lines keep their order (one queue). `flushSync()` (pino calls it at exit, so does a
 * `process.exit()` in the turn that logged) and `end()` hand the pending lines over first;
 * a process killed with SIGKILL loses at most the last `maxDelayMs` of lines, like any
 * asynchronous destination loses what it has not written yet. One exception to the order:
 * when `process.exit()` comes while sonic-boom's asynchronous write of an earlier batch is
 * still on a libuv thread, the exit flush writes the later lines synchronously and they
 * may land first (sonic-boom's `flushSync` cannot wait for a write in flight, its issue
 * #101). Every line is still written once.
 *
 * @example
 * ```ts
 * const out = new LineBatcher(pino.destination({ dest: 1, sync: false, contentMode: 'buffer' }));
 * pino({}, out);
 * ```
 */
export class LineBatcher {
  readonly #target: LineTarget;
  readonly #ref = new WeakRef(this);
  readonly #maxPending: number;
  readonly #maxDelayMs: number;
  /**
   * The buffer lines are written into: the pending batch is `[#start, #used)`. A hand-over
   * passes that slice on and the next batch continues after it, so a quiet channel does not
   * allocate a buffer per batch; a full buffer is left to the writes that hold its slices.
   */
  #buffer: Buffer | undefined;
  #start = 0;
  #used = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: LineTarget, options: LineBatcherOptions = {}) {
    this.#target = target;
    this.#maxPending = options.maxPending ?? 65_536;
    this.#maxDelayMs = options.maxDelayMs ?? 25;
    // Batchers of apps that are gone leave their references behind: drop those now and then.
    if (live.size >= 64) for (const ref of live) if (ref.deref() === undefined) live.delete(ref);
    live.add(this.#ref);
  }

  write(line: string): boolean {
    let buffer = this.#buffer;
    // A line's UTF-8 is at most three bytes per UTF-16 unit: only when that might not fit
    // is the line measured.
    if (
      buffer === undefined ||
      (this.#used + line.length * 3 > buffer.length &&
        this.#used + Buffer.byteLength(line) > buffer.length)
    ) {
      this.#handOver();
      // Room for a batch to pass maxPending by a line, as a string batch could.
      buffer = Buffer.allocUnsafe(Math.max(2 * this.#maxPending, Buffer.byteLength(line)));
      this.#buffer = buffer;
      this.#start = 0;
      this.#used = 0;
    }
    this.#used += buffer.write(line, this.#used);
    if (this.#used - this.#start >= this.#maxPending) this.#handOver();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onDelay, this.#maxDelayMs);
      // Pending lines never keep the process alive: the exit hook writes them out.
      this.#timer.unref();
    }
    return true;
  }

  readonly #onDelay = (): void => {
    this.#timer = undefined;
    this.#handOver();
  };

  #handOver(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const buffer = this.#buffer;
    if (buffer === undefined || this.#used === this.#start) return;
    const batch = buffer.subarray(this.#start, this.#used);
    this.#start = this.#used;
    this.#target.write(batch);
  }

  /** Hand the pending lines over and flush the target synchronously (exit, shutdown). */
  flushSync(): void {
    this.#handOver();
    this.#target.flushSync?.();
  }

  /** Hand the pending lines over, then end the target. */
  end(): void {
    live.delete(this.#ref);
    this.#handOver();
    this.#target.end?.();
  }
}

/**
 * Batchers whose lines must not die with the process: `process.exit()` in the turn that
 * logged would otherwise leave them pending. One listener for all of them; pino's own exit
 * hook (flushSync on its sonic-boom) runs before it, so each batcher flushes its target again.
 */
const live = new Set<WeakRef<LineBatcher>>();
process.on('exit', () => {
  for (const ref of live) {
    try {
      ref.deref()?.flushSync();
    } catch {
      // A destination that cannot take a last write (closed fd) has nothing more to give.
    }
  }
});
