import type { z } from 'zod';
import { suggest } from '../../support/index.js';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { numberRule, type RuleOptions, stringRule } from '../rule-check.js';
import { COUNTRY_CODES, POSTAL_CODE_PATTERNS } from './reference-data.js';

/**
 * An ISO 3166-1 alpha-2 country code, upper case (`'DE'`, `'US'`).
 *
 * @example
 * ```ts
 * rules.country().parse('FR');
 * ```
 */
export function country(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'country',
    (value) =>
      COUNTRY_CODES.has(value) ? undefined : 'Must be an ISO 3166-1 alpha-2 country code',
    options,
  );
}

/**
 * A well-formed BCP 47 language tag (`'en'`, `'de-CH'`, `'zh-Hant-TW'`), checked by
 * `Intl.getCanonicalLocales`.
 *
 * @example
 * ```ts
 * rules.language().parse('pt-BR');
 * ```
 */
export function language(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'language',
    (value) => {
      if (value.length === 0 || value.length > 64) return 'Must be a BCP 47 language tag';
      try {
        Intl.getCanonicalLocales(value);
        return undefined;
      } catch {
        return 'Must be a BCP 47 language tag';
      }
    },
    options,
  );
}

let zones: ReadonlySet<string> | undefined;

// Node 20's ICU lists canonical zones only, without 'UTC' and with some legacy names
// ('Asia/Calcutta'); the aliases ('Asia/Kolkata', 'US/Pacific') are valid IANA names too.
function timeZones(): ReadonlySet<string> {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);
  return zones;
}

// An IANA name as written in the database: each segment starts upper case ('America/New_York').
const IANA_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z0-9][A-Za-z0-9_+-]*){0,2}$/;

function knownZone(value: string): boolean {
  if (timeZones().has(value)) return true;
  if (value.length > 64 || !IANA_SHAPE.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA time zone (`'Europe/Berlin'`, `'UTC'`), from `Intl.supportedValuesOf('timeZone')`
 * plus the aliases the runtime accepts (`'Asia/Kolkata'`). Names are case-sensitive.
 *
 * @example
 * ```ts
 * rules.timezone().parse('America/New_York');
 * ```
 */
export function timezone(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'timezone',
    (value) => (knownZone(value) ? undefined : 'Must be a valid IANA time zone'),
    options,
  );
}

/** Countries with a known postal code format. */
export const POSTAL_CODE_COUNTRIES: readonly string[] = Object.keys(POSTAL_CODE_PATTERNS);

/**
 * A postal code in the format of `country` (AT AU BE BR CA CH DE DK ES FR GB IE IN IT JP LU
 * NL NO PL PT SE US). To follow a country field of the same object, use `rules.when`.
 *
 * @example
 * ```ts
 * rules.postalCode('NL').parse('1234 AB');
 * ```
 */
export function postalCode(countryCode: string, options: RuleOptions = {}): z.ZodString {
  const code = String(countryCode).toUpperCase();
  const pattern = POSTAL_CODE_PATTERNS[code];
  if (!pattern) {
    const hint = suggest(code, POSTAL_CODE_COUNTRIES);
    throw new E_INVALID_RULE_OPTIONS(
      'postalCode',
      `no postal code format for "${countryCode}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${POSTAL_CODE_COUNTRIES.join(' ')}`,
    );
  }
  return stringRule(
    'postalCode',
    (value) =>
      value.length <= 12 && pattern.test(value)
        ? undefined
        : { message: 'Must be a valid postal code for {country}', params: { country: code } },
    options,
  );
}

const E164 = /^\+[1-9]\d{1,14}$/;

// Lenient national or international form as people type it: '030 1234567', '(555) 123-4567',
// '+49 (0)30 1234-567'. Digits, spaces and . / - separators, one parenthesized group.
function lenientPhone(value: string): boolean {
  if (value.length > 32 || !/^\+?[\d ()./-]+$/.test(value)) return false;
  if (!/\d$/.test(value) || /[ ./-]{2,}/.test(value)) return false;
  const digits = value.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 15) return false;
  // after '+' comes a country code, and none starts with 0
  if (value.startsWith('+') && !/^\+\s*[1-9]/.test(value)) return false;
  const opens = value.split('(').length - 1;
  const closes = value.split(')').length - 1;
  if (opens !== closes || opens > 1) return false;
  return opens === 0 || /\(\d+\)/.test(value);
}

/** Options of {@link phone}. */
export interface PhoneOptions extends RuleOptions {
  /** `'e164'` strict international (`+4930123456`), `'lenient'` as typed, `'any'` (default). */
  format?: 'e164' | 'lenient' | 'any';
}

/**
 * A phone number: E.164 (`+14155550123`) or, unless `format: 'e164'`, a leniently written
 * national or international number (`'030 1234567'`, `'(415) 555-0123'`).
 *
 * @example
 * ```ts
 * rules.phone({ format: 'e164' }).parse('+14155550123');
 * ```
 */
export function phone(options: PhoneOptions = {}): z.ZodString {
  const format = options.format ?? 'any';
  if (format !== 'e164' && format !== 'lenient' && format !== 'any') {
    throw new E_INVALID_RULE_OPTIONS(
      'phone',
      `format is 'e164', 'lenient' or 'any', got "${format}"`,
    );
  }
  return stringRule(
    'phone',
    (value) => {
      const valid =
        (format !== 'lenient' && E164.test(value)) || (format !== 'e164' && lenientPhone(value));
      if (valid) return undefined;
      return format === 'e164'
        ? 'Must be a phone number in international format (+14155550123)'
        : 'Must be a valid phone number';
    },
    options,
  );
}

/**
 * A latitude in degrees, -90 to 90.
 *
 * @example
 * ```ts
 * rules.latitude().parse(52.52);
 * ```
 */
export function latitude(options: RuleOptions = {}): z.ZodNumber {
  return numberRule(
    'latitude',
    (value) => (value >= -90 && value <= 90 ? undefined : 'Must be a latitude between -90 and 90'),
    options,
  );
}

/**
 * A longitude in degrees, -180 to 180.
 *
 * @example
 * ```ts
 * rules.longitude().parse(13.405);
 * ```
 */
export function longitude(options: RuleOptions = {}): z.ZodNumber {
  return numberRule(
    'longitude',
    (value) =>
      value >= -180 && value <= 180 ? undefined : 'Must be a longitude between -180 and 180',
    options,
  );
}
