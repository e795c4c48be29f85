import type { DestinationStream } from 'pino';
import pino from 'pino';

/**
 * What a hot-path writer (the access log) needs to write a line itself, bypassing pino's
 * per-line machinery (mixin object, formatters, serializers, `asJson`), with the same result
 * as the logger would give: the logger's destination and the parts of its options that shape
 * a line. {@link createLogger} attaches one only when nothing else could change a line —
 * no configured redaction paths, no processors, no pretty printing — so a writer with a
 * sink may format the line itself; without one it logs through pino.
 */
export interface LineSink {
  readonly stream: DestinationStream;
  /** `memory` (sampled RSS) on every line. */
  readonly memory: boolean;
  /** Luhn-valid card numbers in user-supplied values must be masked. */
  readonly maskCards: boolean;
}

const SINK = Symbol('keel.logger.lineSink');
const NEEDS_METADATA = pino.symbols.needsMetadataGsym;
const CHINDINGS = pino.symbols.chindingsSym;
const EMPTY: Record<string, never> = Object.freeze({}) as Record<string, never>;

/** Mark `logger` (and its children, which inherit it) as writable through `sink`. */
export function attachLineSink(logger: object, sink: LineSink): void {
  Object.defineProperty(logger, SINK, { value: sink, enumerable: false });
}

/** The logger's sink, or undefined when its lines must go through pino. */
export function lineSink(logger: object): LineSink | undefined {
  return (logger as { [SINK]?: LineSink })[SINK];
}

/**
 * The logger's bindings as pino serialized them (`,"app":"erp","pid":7`), secrets already
 * redacted by the bindings formatter: the start of every line after `level` and `time`.
 */
export function serializedBindings(logger: object): string {
  const chindings = (logger as { [CHINDINGS]?: unknown })[CHINDINGS];
  return typeof chindings === 'string' ? chindings : '';
}

/**
 * Write one finished JSON line (with its newline) to the sink's stream. A multistream routes
 * by the level pino would have announced, so it is announced the same way.
 */
export function writeLine(
  sink: LineSink,
  logger: object,
  level: number,
  msg: string,
  line: string,
): void {
  const stream = sink.stream as DestinationStream & {
    [NEEDS_METADATA]?: boolean;
    lastLevel?: number;
    lastMsg?: string;
    lastObj?: object;
    lastTime?: string;
    lastLogger?: object;
  };
  if (stream[NEEDS_METADATA] === true) {
    stream.lastLevel = level;
    stream.lastMsg = msg;
    stream.lastObj = EMPTY;
    stream.lastTime = '';
    stream.lastLogger = logger;
  }
  stream.write(line);
}

/**
 * `JSON.stringify(text)` for a string, without the call when nothing in it needs escaping
 * (a quote, a backslash, a control character, a surrogate that may be lone): the common
 * path, ip or method of a log line is copied between quotes as it is.
 *
 * @example
 * ```ts
 * jsonString('/users/42'); // '"/users/42"'
 * jsonString('a"b');       // '"a\\"b"'
 * ```
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * `String(Math.round(ms * 1000) / 1000)`, a duration in milliseconds to the microsecond, as
 * a log line writes it, from integers: V8 formats a fractional double through its shortest
 * round-trip algorithm, several times dearer than three small integers.
 *
 * @example
 * ```ts
 * millisString(12.3456); // '12.346'
 * millisString(0.01);    // '0.01'
 * millisString(2);       // '2'
 * ```
 */
export function millisString(ms: number): string {
  const us = Math.round(ms * 1000);
  // Past 2^31 µs (35 minutes), or not a count at all: the double's own formatting.
  if (!(us >= 0 && us < 2_147_483_648)) return String(us / 1000);
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  if (frac === 0) return `${whole}`;
  if (frac % 100 === 0) return `${whole}.${frac / 100}`;
  if (frac % 10 === 0) return `${whole}.${frac < 100 ? '0' : ''}${frac / 10}`;
  return `${whole}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}
