import type { z } from 'zod';
import { suggest } from '../../support/index.js';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { type RuleOptions, stringRule } from '../rule-check.js';
import { IBAN_LENGTHS } from './reference-data.js';

/** ISO 13616 check: move the first four characters to the end, letters to 10..35, mod 97 = 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    // digits 0-9 stay one digit; letters A-Z become two (10-35)
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else remainder = (remainder * 100 + (code - 55)) % 97;
  }
  return remainder === 1;
}

/** Luhn (mod 10) over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14, ISBN-13): weights 3,1 from the right. */
export function gtinValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 2, weight = 3; i >= 0; i--, weight = 4 - weight) {
    sum += (digits.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(digits.length - 1) - 48;
}

function isbn10Valid(isbn: string): boolean {
  if (!/^\d{9}[\dX]$/.test(isbn)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const value = isbn[i] === 'X' ? 10 : isbn.charCodeAt(i) - 48;
    sum += value * (10 - i);
  }
  return sum % 11 === 0;
}

function isbn13Valid(isbn: string): boolean {
  return /^97[89]\d{10}$/.test(isbn) && gtinValid(isbn);
}

/**
 * An IBAN: known country, that country's length, mod-97 checksum. Spaces (print format) and
 * lower case are accepted; the value is not changed.
 *
 * @example
 * ```ts
 * rules.iban().parse('DE89 3704 0044 0532 0130 00');
 * rules.iban({ countries: ['DE', 'AT'] });
 * ```
 */
export function iban(options: RuleOptions & { countries?: readonly string[] } = {}): z.ZodString {
  const countries = options.countries?.map((c) => c.toUpperCase());
  for (const country of countries ?? []) {
    if (!(country in IBAN_LENGTHS)) {
      const hint = suggest(country, Object.keys(IBAN_LENGTHS));
      throw new E_INVALID_RULE_OPTIONS(
        'iban',
        `no IBAN format for country "${country}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      );
    }
  }
  return stringRule(
    'iban',
    (value) => {
      const compact = value.replace(/ /g, '').toUpperCase();
      const country = compact.slice(0, 2);
      const valid =
        /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact) &&
        IBAN_LENGTHS[country] === compact.length &&
        (!countries || countries.includes(country)) &&
        ibanChecksumValid(compact);
      return valid ? undefined : 'Must be a valid IBAN';
    },
    options,
  );
}

/**
 * A payment card number: 12 to 19 digits (spaces and dashes allowed) passing the Luhn check.
 *
 * @example
 * ```ts
 * rules.creditCard().parse('4111 1111 1111 1111');
 * ```
 */
export function creditCard(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'creditCard',
    (value) => {
      const digits = value.replace(/[ -]/g, '');
      return /^\d{12,19}$/.test(digits) && luhnValid(digits)
        ? undefined
        : 'Must be a valid card number';
    },
    options,
  );
}

/**
 * An ISBN-10 or ISBN-13 with a valid check digit; hyphens and spaces allowed.
 *
 * @example
 * ```ts
 * rules.isbn().parse('978-0-306-40615-7');
 * rules.isbn({ version: 10 }).parse('0-306-40615-2');
 * ```
 */
export function isbn(options: RuleOptions & { version?: 10 | 13 } = {}): z.ZodString {
  const { version } = options;
  if (version !== undefined && version !== 10 && version !== 13) {
    throw new E_INVALID_RULE_OPTIONS('isbn', `version is 10 or 13, got ${String(version)}`);
  }
  return stringRule(
    'isbn',
    (value) => {
      const compact = value.replace(/[- ]/g, '').toUpperCase();
      const valid =
        (version !== 13 && compact.length === 10 && isbn10Valid(compact)) ||
        (version !== 10 && compact.length === 13 && isbn13Valid(compact));
      return valid
        ? undefined
        : version
          ? `Must be a valid ISBN-${version}`
          : 'Must be a valid ISBN';
    },
    options,
  );
}

const GTIN_LENGTHS = [8, 12, 13, 14] as const;

/**
 * An EAN/GTIN barcode number (EAN-8, UPC-A, EAN-13, GTIN-14) with a valid check digit.
 *
 * @example
 * ```ts
 * rules.ean().parse('4006381333931');
 * rules.ean({ lengths: [13] });
 * ```
 */
export function ean(
  options: RuleOptions & { lengths?: ReadonlyArray<(typeof GTIN_LENGTHS)[number]> } = {},
): z.ZodString {
  const lengths: readonly number[] = options.lengths ?? GTIN_LENGTHS;
  for (const length of lengths) {
    if (!(GTIN_LENGTHS as readonly number[]).includes(length)) {
      throw new E_INVALID_RULE_OPTIONS('ean', `length ${length} is not one of 8, 12, 13, 14`);
    }
  }
  return stringRule(
    'ean',
    (value) =>
      /^\d+$/.test(value) && lengths.includes(value.length) && gtinValid(value)
        ? undefined
        : 'Must be a valid EAN/GTIN barcode number',
    options,
  );
}
