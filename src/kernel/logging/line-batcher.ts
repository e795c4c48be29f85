/** Where a {@link LineBatcher} hands its batches: a sonic-boom, a file channel's stream. */
export interface LineTarget {
  write(chunk: string): unknown;
  flushSync?(): void;
  end?(): void;
}

export interface LineBatcherOptions {
  /** Hand the batch over at once past this many UTF-16 units (default 64 KiB). */
  maxPending?: number;
}

/**
 * Collects the lines logged during one turn of the event loop and hands them to the target
 * as one write at the end of the turn (or as soon as `maxPending` is reached). A busy server
 * logs a line per request; sonic-boom measures its whole pending buffer with
 * `Buffer.byteLength` on every write, and a Node stream pays its write machinery per call,
 * so one write per turn instead of one per line takes most of a line's cost away.
 *
 * Lines keep their order (one queue), and nothing waits longer than the current turn: the
 * batch goes out from `setImmediate`, before any timer. `flushSync()` (pino calls it at
 * exit) and `end()` hand the pending lines over first.
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
  #pending = '';
  #scheduled = false;

  constructor(target: LineTarget, options: LineBatcherOptions = {}) {
    this.#target = target;
    this.#maxPending = options.maxPending ?? 65_536;
    live.add(this.#ref);
  }

  write(line: string): boolean {
    this.#pending += line;
    if (this.#pending.length >= this.#maxPending) this.#handOver();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurnEnd);
    }
    return true;
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.#handOver();
  };

  #handOver(): void {
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
