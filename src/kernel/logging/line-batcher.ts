/** Where a {@link LineBatcher} hands its batches: a sonic-boom, a file channel's stream. */
export interface LineTarget {
  write(chunk: string): unknown;
  flushSync?(): void;
  end?(): void;
}

export interface LineBatcherOptions {
  /** Hand the batch over at once past this many UTF-16 units (default 64 KiB). */
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
 * `Buffer.byteLength` on every write. Batched, a line costs its string concatenation.
 *
 * Lines keep their order (one queue). `flushSync()` (pino calls it at exit, so does a
 * `process.exit()` in the turn that logged) and `end()` hand the pending lines over first;
 * a process killed with SIGKILL loses at most the last `maxDelayMs` of lines, like any
 * asynchronous destination loses what it has not written yet.
 *
 * @example
 * ```ts
 * const out = new LineBatcher(pino.destination({ dest: 1, sync: false }));
 * pino({}, out);
 * ```
 */
export class LineBatcher {
  readonly #target: LineTarget;
  readonly #ref = new WeakRef(this);
  readonly #maxPending: number;
  readonly #maxDelayMs: number;
  #pending = '';
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
    this.#pending += line;
    if (this.#pending.length >= this.#maxPending) this.#handOver();
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
    if (this.#pending === '') return;
    const batch = this.#pending;
    this.#pending = '';
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
