/**
 * What never reaches a log file: secrets by key name (redactSecrets, on every line's fields
 * before they are serialized), card numbers by shape (masked in the serialized line), and
 * line breaks that would let a logged value start a line of its own.
 */

const SECRET_KEYS = [
  'password',
  'passwd',
  'passphrase',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'apiKey',
  'api_key',
  'apikey',
  'secret',
  'clientSecret',
  'client_secret',
  'privateKey',
  'private_key',
  'authorization',
  'cookie',
  'cookies',
  '["set-cookie"]',
  '["proxy-authorization"]',
  '["x-api-key"]',
  '["x-auth-token"]',
  'cardNumber',
  'card_number',
  'cvv',
  'cvc',
];

// Header names (lower case, as Node gives them) redacted wherever headers are logged.
const SECRET_HEADERS = [
  'authorization',
  '["proxy-authorization"]',
  'cookie',
  '["set-cookie"]',
  '["x-api-key"]',
  '["x-auth-token"]',
];

/** What a redacted value becomes. */
export const REDACTED = '[redacted]';

/** A secret key's name as compared: lower case, bracket quotes dropped. */
function secretName(key: string): string {
  return (key.startsWith('["') ? key.slice(2, -2) : key).toLowerCase();
}

const SECRET_NAMES: ReadonlySet<string> = new Set(
  [...SECRET_KEYS, ...SECRET_HEADERS].map(secretName),
);

/** How deep into a line's fields secrets are looked for (a request logged whole is 3). */
const MAX_REDACT_DEPTH = 4;

function isPlainContainer(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function redactLevel(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const field = value[key];
    let next = field;
    if (SECRET_NAMES.has(key) || SECRET_NAMES.has(key.toLowerCase())) {
      if (field === undefined) continue;
      next = REDACTED;
    } else if (depth < MAX_REDACT_DEPTH && isPlainContainer(field)) {
      next = redactLevel(field, depth + 1);
    }
    if (next !== field) {
      // Copy on write: the caller's objects (a request's real headers) are never changed.
      out ??= (Array.isArray(value) ? [...value] : { ...value }) as Record<string, unknown>;
      // An own `__proto__` key (from JSON.parse) is data: assigning it would set the copy's
      // prototype instead.
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: next,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = next;
    }
  }
  return out ?? value;
}

/**
 * The line's fields with every secret key's value (passwords, tokens, API keys,
 * authorization and cookie headers, card fields; any case) replaced by `[redacted]`, at any
 * depth up to four, in plain objects and arrays. The line's own objects are not modified:
 * the objects on the way to a secret are copied. One pass over the fields, with a set lookup
 * per key: it runs on every line (pino's path redaction re-read each of ~100 paths per line).
 *
 * @example
 * ```ts
 * redactSecrets({ user: 'ann', headers: { Authorization: 'Bearer x' } });
 * // { user: 'ann', headers: { Authorization: '[redacted]' } }
 * ```
 */
export function redactSecrets<T extends Record<string, unknown>>(fields: T): T {
  return redactLevel(fields, 1) as T;
}

// 13 to 19 digits, single spaces or dashes allowed between them; not glued to a word or a
// dash before (a UUID's later groups, `id_…`) nor to a word after. In a JSON line a control
// character before the number is an escape (`\n4111…`): its letter does not glue. Cheap to
// run on every line: V8 skips ahead to digits, and most lines hold no run this long.
const CARD_CANDIDATE = /(?:(?<![\w-])|(?<=\\[bfnrt]))\d(?:[ -]?\d){12,18}(?!\w)/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Tells whether offsets of one JSON text fall inside a string literal (quotes counted,
 * escapes skipped). Asked in increasing order (as `replace` visits matches), it resumes where
 * it stopped: one pass over the line, however many numbers it holds.
 */
function jsonStringTracker(json: string): (index: number) => boolean {
  let inside = false;
  let i = 0;
  return (index) => {
    for (; i < index; i++) {
      const c = json.charCodeAt(i);
      if (c === 92 /* \ */ && inside) i++;
      else if (c === 34 /* " */) inside = !inside;
    }
    return inside;
  };
}

/**
 * Whether `text` holds 13 digits in a row (single spaces or dashes allowed between them):
 * the cheap test every line passes first. A loop over char codes costs a fraction of the
 * card pattern (a lookbehind tried at every position), and almost no line has such a run.
 */
export function hasDigitRun(text: string): boolean {
  // Most values an access line checks (an ip, a short path) cannot hold 13 digits at all.
  if (text.length < 13) return false;
  let run = 0;
  let separated = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 13) return true;
      separated = false;
    } else if ((c === 32 || c === 45) && run > 0 && !separated) {
      separated = true;
    } else {
      run = 0;
      separated = false;
    }
  }
  return false;
}

function maskDigits(candidate: string): string {
  // Keep the last four digits (what receipts print) and the separators.
  let toMask = candidate.replace(/\D/g, '').length - 4;
  let out = '';
  for (const char of candidate) {
    if (char >= '0' && char <= '9' && toMask > 0) {
      out += '*';
      toMask--;
    } else out += char;
  }
  return out;
}

function isCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  // Grouped numbers are grouped as cards are (4-4-4-4, 4-6-5, ...): the first group has four
  // digits. A date (2026-11-27) or a grouped id of another shape stays as it is.
  if (digits.length !== candidate.length && !/^\d{4}[ -]/.test(candidate)) return false;
  return luhnValid(digits);
}

/**
 * Mask the Luhn-valid card numbers inside the string values of one serialized JSON line
 * (`4111 1111 1111 1111` → `**** **** **** 1111`); numbers outside strings (ids, counters)
 * are left alone. Returns the line itself when there is nothing to mask.
 *
 * @example
 * ```ts
 * maskCardNumbersInJson('{"msg":"paid with 4111111111111111"}');
 * // '{"msg":"paid with ************1111"}'
 * ```
 */
export function maskCardNumbersInJson(line: string): string {
  if (!hasDigitRun(line)) return line;
  CARD_CANDIDATE.lastIndex = 0;
  if (!CARD_CANDIDATE.test(line)) return line;
  CARD_CANDIDATE.lastIndex = 0;
  const insideString = jsonStringTracker(line);
  return line.replace(CARD_CANDIDATE, (candidate: string, offset: number) =>
    isCardNumber(candidate) && insideString(offset) ? maskDigits(candidate) : candidate,
  );
}

/**
 * Mask the Luhn-valid card numbers in a plain string (a message before it is logged
 * elsewhere, a value for the console).
 */
export function maskCardNumbers(text: string): string {
  if (!hasDigitRun(text)) return text;
  CARD_CANDIDATE.lastIndex = 0;
  if (!CARD_CANDIDATE.test(text)) return text;
  CARD_CANDIDATE.lastIndex = 0;
  return text.replace(CARD_CANDIDATE, (candidate: string) =>
    isCardNumber(candidate) ? maskDigits(candidate) : candidate,
  );
}

const LINE_BREAKS = /[\r\n\u2028\u2029]/;
const LINE_BREAKS_G = /[\r\n\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '\r': '\\r',
  '\n': '\\n',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * Write line breaks as `\n` / `\r`: a message taken from user input then reads as one line
 * in every viewer that decodes the JSON (jq, Loki, Kibana), not as a forged entry.
 */
export function escapeLineBreaks(value: unknown): unknown {
  if (typeof value !== 'string' || !LINE_BREAKS.test(value)) return value;
  return value.replace(LINE_BREAKS_G, (c) => ESCAPES[c]!);
}

// C0 controls but tab, DEL, C1 controls (ESC sequences could rewrite the terminal line),
// and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const TERMINAL_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g;

/** Escape what a terminal would act on (line breaks, ESC sequences) in a string shown raw. */
export function escapeForTerminal(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => {
    const escaped = ESCAPES[c];
    if (escaped) return escaped;
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
