import type { z } from 'zod';
import { parseDuration } from '../../support/index.js';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { type RuleFailure, type RuleOptions, stringRule } from '../rule-check.js';

function positiveInteger(rule: string, name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new E_INVALID_RULE_OPTIONS(rule, `${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * A URL slug: lower-case letters and digits in groups joined by single hyphens.
 *
 * @example
 * ```ts
 * rules.slug().parse('quarterly-report-2024');
 * ```
 */
export function slug(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'slug',
    (value) =>
      /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(value)
        ? undefined
        : 'Must be a slug: lower-case letters, digits and single hyphens',
    options,
  );
}

/** Options of {@link username}. */
export interface UsernameOptions extends RuleOptions {
  min?: number;
  max?: number;
  /** Names refused whatever their case (`admin`, `root`...). */
  reserved?: readonly string[];
}

/**
 * A user name: letters, digits and single `.` `_` `-` separators, starting and ending with a
 * letter or digit; 3 to 32 characters by default.
 *
 * @example
 * ```ts
 * rules.username({ reserved: ['admin', 'root'] }).parse('ada.lovelace');
 * ```
 */
export function username(options: UsernameOptions = {}): z.ZodString {
  const { min = 3, max = 32 } = options;
  positiveInteger('username', 'min', min);
  positiveInteger('username', 'max', max);
  const reserved = new Set(options.reserved?.map((name) => name.toLowerCase()));
  return stringRule(
    'username',
    (value) => {
      if (value.length < min || value.length > max) {
        return { message: 'Must be {min} to {max} characters long', params: { min, max } };
      }
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*$/.test(value)) {
        return 'May contain letters, digits and single . _ - between them';
      }
      if (reserved.has(value.toLowerCase())) return 'This user name is reserved';
      return undefined;
    },
    options,
  );
}

/** Options of {@link password}. */
export interface PasswordOptions extends RuleOptions {
  /** Minimum length (default 8). */
  min?: number;
  /** Maximum length (default 256): hashing cost grows with length. */
  max?: number;
  /** Require a letter. */
  letters?: boolean;
  /** Require both an upper- and a lower-case letter. */
  mixedCase?: boolean;
  /** Require a digit. */
  numbers?: boolean;
  /** Require a symbol (anything not a letter, digit or space). */
  symbols?: boolean;
}

/**
 * A password meeting a policy. Every unmet requirement is its own error (rule `password`,
 * `params.requirement` naming it), so a form can list them all.
 *
 * @example
 * ```ts
 * rules.password({ min: 12, mixedCase: true, numbers: true, symbols: true });
 * ```
 */
export function password(options: PasswordOptions = {}): z.ZodString {
  const { min = 8, max = 256 } = options;
  positiveInteger('password', 'min', min);
  positiveInteger('password', 'max', max);
  if (min > max) throw new E_INVALID_RULE_OPTIONS('password', `min ${min} exceeds max ${max}`);
  return stringRule(
    'password',
    (value) => {
      const failures: RuleFailure[] = [];
      const fail = (requirement: string, message: string, extra?: Record<string, unknown>) =>
        failures.push({ message, params: { requirement, ...extra } });
      const length = [...value].length;
      if (length < min) fail('min', 'Must be at least {min} characters', { min });
      if (length > max) fail('max', 'Must be at most {max} characters', { max });
      if (options.letters && !/\p{L}/u.test(value)) fail('letters', 'Must contain a letter');
      if (options.mixedCase && !(/\p{Lu}/u.test(value) && /\p{Ll}/u.test(value))) {
        fail('mixedCase', 'Must contain upper- and lower-case letters');
      }
      if (options.numbers && !/\p{N}/u.test(value)) fail('numbers', 'Must contain a number');
      if (options.symbols && !/[^\p{L}\p{N}\s]/u.test(value))
        fail('symbols', 'Must contain a symbol');
      return failures.length ? failures : undefined;
    },
    options,
  );
}

/**
 * A hex color: `#rgb`, `#rrggbb`, and with alpha (default allowed) `#rgba`, `#rrggbbaa`.
 *
 * @example
 * ```ts
 * rules.hexColor({ alpha: false }).parse('#1e90ff');
 * ```
 */
export function hexColor(
  options: RuleOptions & { alpha?: boolean; hash?: 'required' | 'optional' } = {},
): z.ZodString {
  const lengths =
    options.alpha === false ? '[0-9a-f]{3}|[0-9a-f]{6}' : '[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8}';
  const pattern = new RegExp(`^${options.hash === 'optional' ? '#?' : '#'}(?:${lengths})$`, 'i');
  return stringRule(
    'hexColor',
    (value) => (pattern.test(value) ? undefined : 'Must be a hex color such as #1e90ff'),
    options,
  );
}

// semver.org's recommended expression.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * A semantic version (`1.4.0`, `2.0.0-rc.1+build.5`), per semver.org.
 *
 * @example
 * ```ts
 * rules.semver().parse('1.4.0-beta.2');
 * ```
 */
export function semver(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'semver',
    (value) =>
      value.length <= 256 && SEMVER.test(value) ? undefined : 'Must be a semantic version',
    options,
  );
}

/**
 * A ULID: 26 Crockford base-32 characters, the first at most `7` (48-bit time). Case-insensitive.
 *
 * @example
 * ```ts
 * rules.ulid().parse('01ARZ3NDEKTSV4RRFFQ69G5FAV');
 * ```
 */
export function ulid(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'ulid',
    (value) => (/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i.test(value) ? undefined : 'Must be a ULID'),
    options,
  );
}

/**
 * A string holding valid JSON. The value stays a string; pipe into `z.transform(JSON.parse)`
 * for the data.
 *
 * @example
 * ```ts
 * rules.json().parse('{"a":1}');
 * ```
 */
export function json(options: RuleOptions & { maxLength?: number } = {}): z.ZodString {
  const maxLength = options.maxLength ?? 1_000_000;
  return stringRule(
    'json',
    (value) => {
      if (value.length > maxLength) {
        return { message: 'Must be JSON of at most {maxLength} characters', params: { maxLength } };
      }
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return 'Must be valid JSON';
      }
    },
    options,
  );
}

/**
 * Base64 text: standard alphabet with `=` padding, or with `url: true` the URL-safe alphabet
 * (`-` `_`) with optional padding. Empty strings are refused.
 *
 * @example
 * ```ts
 * rules.base64().parse('S2VlbA==');
 * rules.base64({ url: true }).parse('S2VlbA');
 * ```
 */
export function base64(options: RuleOptions & { url?: boolean } = {}): z.ZodString {
  const test = options.url
    ? (value: string) => {
        const body = value.replace(/={1,2}$/, '');
        return (
          /^[A-Za-z0-9_-]+$/.test(body) &&
          body.length % 4 !== 1 &&
          (body === value || value.length % 4 === 0)
        );
      }
    : (value: string) =>
        value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && !/=[^=]/.test(value);
  return stringRule(
    'base64',
    (value) =>
      value.length > 0 && test(value)
        ? undefined
        : options.url
          ? 'Must be base64url text'
          : 'Must be base64 text',
    options,
  );
}

/**
 * Letters only, any script (`\p{L}` with combining marks). `ascii: true` limits to A-Z, a-z.
 *
 * @example
 * ```ts
 * rules.alpha().parse('Zoë');
 * ```
 */
export function alpha(options: RuleOptions & { ascii?: boolean } = {}): z.ZodString {
  const pattern = options.ascii ? /^[A-Za-z]+$/ : /^[\p{L}\p{M}]+$/u;
  return stringRule(
    'alpha',
    (value) => (pattern.test(value) ? undefined : 'May contain only letters'),
    options,
  );
}

/**
 * Letters and digits only, any script. `ascii: true` limits to A-Z, a-z, 0-9.
 *
 * @example
 * ```ts
 * rules.alphaNum().parse('Order42');
 * ```
 */
export function alphaNum(options: RuleOptions & { ascii?: boolean } = {}): z.ZodString {
  const pattern = options.ascii ? /^[A-Za-z0-9]+$/ : /^[\p{L}\p{M}\p{N}]+$/u;
  return stringRule(
    'alphaNum',
    (value) => (pattern.test(value) ? undefined : 'May contain only letters and digits'),
    options,
  );
}

/**
 * Letters, digits, `-` and `_`, any script. `ascii: true` limits to ASCII.
 *
 * @example
 * ```ts
 * rules.alphaDash().parse('stock_item-7');
 * ```
 */
export function alphaDash(options: RuleOptions & { ascii?: boolean } = {}): z.ZodString {
  const pattern = options.ascii ? /^[A-Za-z0-9_-]+$/ : /^[\p{L}\p{M}\p{N}_-]+$/u;
  return stringRule(
    'alphaDash',
    (value) => (pattern.test(value) ? undefined : 'May contain only letters, digits, - and _'),
    options,
  );
}

/**
 * A string of ASCII digits, of an exact length or a `{ min, max }` range (PINs, codes).
 * Leading zeros are kept, which a number would lose.
 *
 * @example
 * ```ts
 * rules.digits(6).parse('004217');
 * rules.digits({ min: 4, max: 8 }).parse('1234');
 * ```
 */
export function digits(
  length?: number | { min?: number; max?: number },
  options: RuleOptions = {},
): z.ZodString {
  const range = typeof length === 'number' ? { min: length, max: length } : (length ?? {});
  const min = range.min ?? 1;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  positiveInteger('digits', 'min', min);
  if (max !== Number.POSITIVE_INFINITY) positiveInteger('digits', 'max', max);
  const message =
    min === max
      ? 'Must be exactly {min} digits'
      : max === Number.POSITIVE_INFINITY
        ? 'Must be digits only'
        : 'Must be {min} to {max} digits';
  return stringRule(
    'digits',
    (value) =>
      /^\d+$/.test(value) && value.length >= min && value.length <= max
        ? undefined
        : { message, params: { min, max } },
    options,
  );
}

const WINDOWS_RESERVED = /^(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\..*)?$/i;

/**
 * A safe file name for every common file system: no path separators, control characters or
 * `<>:"|?*`, not `.`/`..`, not a Windows device name, no trailing dot or space, at most
 * `maxBytes` (255) UTF-8 bytes. Use it on upload names before touching the disk.
 *
 * @example
 * ```ts
 * rules.filename().parse('invoice-2024-03.pdf');
 * ```
 */
export function filename(options: RuleOptions & { maxBytes?: number } = {}): z.ZodString {
  const maxBytes = options.maxBytes ?? 255;
  return stringRule(
    'filename',
    (value) => {
      const valid =
        value.length > 0 &&
        Buffer.byteLength(value) <= maxBytes &&
        value !== '.' &&
        value !== '..' &&
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
        !/[\x00-\x1f\x7f/\\<>:"|?*]/.test(value) &&
        !/[. ]$/.test(value) &&
        !WINDOWS_RESERVED.test(value);
      return valid ? undefined : 'Must be a plain file name';
    },
    options,
  );
}

/**
 * A duration as Keel writes them in config: `'500ms'`, `'10s'`, `'1h30m'` (see parseDuration),
 * optionally bounded.
 *
 * @example
 * ```ts
 * rules.duration({ max: '1d' }).parse('15m');
 * ```
 */
export function duration(
  options: RuleOptions & { min?: number | string; max?: number | string } = {},
): z.ZodString {
  const bound = (name: string, value: number | string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    try {
      return parseDuration(value);
    } catch (error) {
      throw new E_INVALID_RULE_OPTIONS('duration', `${name}: ${(error as Error).message}`);
    }
  };
  const min = bound('min', options.min, 0);
  const max = bound('max', options.max, Number.POSITIVE_INFINITY);
  return stringRule(
    'duration',
    (value) => {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch {
        return 'Must be a duration such as 500ms, 10s, 5m or 1h30m';
      }
      if (ms < min || ms > max) {
        return {
          message: 'Must be a duration from {min} to {max}',
          params: { min: options.min ?? 0, max: options.max ?? '∞' },
        };
      }
      return undefined;
    },
    options,
  );
}

const MIME =
  /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126})\/([a-z0-9][a-z0-9!#$&^_.+-]{0,126})(?:\s*;\s*[a-z0-9!#$&^_.+-]+=(?:[a-z0-9!#$&^_.+-]+|"[^"\\\r\n]*"))*$/i;

/**
 * A media type (`type/subtype`, optional parameters) per RFC 6838; with `allowed`, one of those
 * (`'image/*'` wildcards allowed).
 *
 * @example
 * ```ts
 * rules.mimeType({ allowed: ['image/*', 'application/pdf'] }).parse('image/png');
 * ```
 */
export function mimeType(options: RuleOptions & { allowed?: readonly string[] } = {}): z.ZodString {
  const allowed = options.allowed?.map((type) => type.toLowerCase());
  return stringRule(
    'mimeType',
    (value) => {
      const match = value.length <= 512 ? MIME.exec(value) : null;
      if (!match) return 'Must be a media type such as text/plain';
      if (!allowed) return undefined;
      const type = `${match[1]}/${match[2]}`.toLowerCase();
      const ok = allowed.some((entry) =>
        entry.endsWith('/*') ? type.startsWith(entry.slice(0, -1)) : entry === type,
      );
      return ok ? undefined : { message: 'Must be one of: {allowed}', params: { allowed } };
    },
    options,
  );
}
