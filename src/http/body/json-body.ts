import secureJsonParse from 'secure-json-parse';
import { E_MALFORMED_JSON, E_PROTOTYPE_POISONING } from './errors.js';

/** Where and why a JSON text stops being valid. */
export interface JsonErrorLocation {
  /** 0-based character offset of the offending character (the text length at end of input). */
  readonly position: number;
  /** 1-based line and column of `position`. */
  readonly line: number;
  readonly column: number;
  readonly reason: string;
}

const POISONING_MESSAGE = 'Object contains forbidden prototype property';

// What the scanner expects next.
const State = {
  Value: 0,
  ValueOrArrayEnd: 1,
  KeyOrObjectEnd: 2,
  Key: 3,
  Colon: 4,
  AfterValue: 5,
} as const;
type State = (typeof State)[keyof typeof State];

function describe(code: number): string {
  return code < 0x20 || code === 0x7f
    ? `U+${code.toString(16).padStart(4, '0').toUpperCase()}`
    : `"${String.fromCharCode(code)}"`;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isHex(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

type Step = number | { at: number; reason: string };

function scanString(text: string, start: number): Step {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 34 /* " */) return i + 1;
    if (code < 0x20) return { at: i, reason: `control character ${describe(code)} in a string` };
    if (code === 92 /* \ */) {
      const next = text.charCodeAt(i + 1);
      if (next === 117 /* u */) {
        for (let k = 2; k < 6; k++) {
          if (!isHex(text.charCodeAt(i + k))) return { at: i, reason: 'invalid \\u escape' };
        }
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (![34, 92, 47, 98, 102, 110, 114, 116].includes(next)) {
        return { at: i, reason: 'invalid escape sequence' };
      }
      i += 2;
      continue;
    }
    i++;
  }
  return { at: text.length, reason: 'unterminated string' };
}

function scanDigits(text: string, start: number): number {
  let i = start;
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}

function scanNumber(text: string, start: number): Step {
  let i = start;
  if (text.charCodeAt(i) === 45 /* - */) i++;
  if (text.charCodeAt(i) === 48 /* 0 */) i++;
  else if (isDigit(text.charCodeAt(i))) i = scanDigits(text, i);
  else return { at: i, reason: 'invalid number' };
  if (text.charCodeAt(i) === 46 /* . */) {
    if (!isDigit(text.charCodeAt(i + 1))) return { at: i + 1, reason: 'invalid number' };
    i = scanDigits(text, i + 1);
  }
  const exponent = text.charCodeAt(i);
  if (exponent === 101 || exponent === 69 /* e E */) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (!isDigit(text.charCodeAt(i))) return { at: i, reason: 'invalid number' };
    i = scanDigits(text, i);
  }
  return i;
}

function scanValue(text: string, i: number): Step {
  const code = text.charCodeAt(i);
  if (code === 34) return scanString(text, i);
  if (code === 45 || isDigit(code)) return scanNumber(text, i);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, i)) return i + literal.length;
  }
  return { at: i, reason: `unexpected character ${describe(code)}` };
}

function toLocation(text: string, position: number, reason: string): JsonErrorLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { position, line, column: position - lineStart + 1, reason };
}

/**
 * Find the first syntax error in a JSON text, or undefined when it is valid. Run only
 * after `JSON.parse` failed: V8's messages give no position for "Unexpected token" and
 * quote the input, which must not reach logs. Iterative, so deep nesting cannot overflow.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const stack: Array<'{' | '['> = [];
  let state: State = State.Value;
  let i = 0;
  for (;;) {
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code !== 32 && code !== 9 && code !== 10 && code !== 13) break;
      i++;
    }
    if (i >= text.length) {
      if (state === State.AfterValue && stack.length === 0) return undefined;
      return toLocation(text, text.length, 'unexpected end of input');
    }
    const code = text.charCodeAt(i);
    let step: Step;
    switch (state) {
      case State.ValueOrArrayEnd:
      case State.Value:
        if (state === State.ValueOrArrayEnd && code === 93 /* ] */) {
          stack.pop();
          step = i + 1;
          state = State.AfterValue;
        } else if (code === 123 /* { */ || code === 91 /* [ */) {
          stack.push(code === 123 ? '{' : '[');
          step = i + 1;
          state = code === 123 ? State.KeyOrObjectEnd : State.ValueOrArrayEnd;
        } else {
          step = scanValue(text, i);
          state = State.AfterValue;
        }
        break;
      case State.KeyOrObjectEnd:
      case State.Key:
        if (state === State.KeyOrObjectEnd && code === 125 /* } */) {
          stack.pop();
          step = i + 1;
          state = State.AfterValue;
        } else if (code === 34) {
          step = scanString(text, i);
          state = State.Colon;
        } else {
          step = { at: i, reason: `expected a double-quoted property name, got ${describe(code)}` };
        }
        break;
      case State.Colon:
        step =
          code === 58 /* : */ ? i + 1 : { at: i, reason: `expected ":", got ${describe(code)}` };
        state = State.Value;
        break;
      case State.AfterValue: {
        const top = stack.at(-1);
        if (top === undefined) {
          step = { at: i, reason: `unexpected ${describe(code)} after the JSON value` };
        } else if (code === 44 /* , */) {
          step = i + 1;
          state = top === '{' ? State.Key : State.Value;
        } else if (code === (top === '{' ? 125 : 93)) {
          stack.pop();
          step = i + 1;
        } else {
          const close = top === '{' ? '}' : ']';
          step = { at: i, reason: `expected "," or "${close}", got ${describe(code)}` };
        }
        break;
      }
    }
    if (typeof step !== 'number') return toLocation(text, step.at, step.reason);
    i = step;
  }
}

/**
 * Parse a JSON body with prototype-poisoning protection: `__proto__` keys and
 * `constructor.prototype` paths are refused (`E_PROTOTYPE_POISONING`), syntax errors become
 * `E_MALFORMED_JSON` with line and column.
 *
 * @example
 * ```ts
 * parseJsonText('{"name":"Ada"}'); // { name: 'Ada' }
 * ```
 */
export function parseJsonText(input: string): unknown {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  try {
    return secureJsonParse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    if (error instanceof SyntaxError && error.message === POISONING_MESSAGE) {
      throw new E_PROTOTYPE_POISONING();
    }
    const location =
      locateJsonError(text) ??
      // The scanner and V8 should agree; if they ever do not, still answer with a 400.
      toLocation(text, 0, 'invalid JSON');
    throw new E_MALFORMED_JSON(
      location.position,
      location.line,
      location.column,
      location.reason,
    ).withCause(error);
  }
}
