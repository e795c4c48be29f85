import type { z } from 'zod';
import { suggest } from '../../support/index.js';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { type RuleOptions, stringRule } from '../rule-check.js';
import { COUNTRY_CODES, VAT_PATTERNS } from './reference-data.js';

let currencies: ReadonlySet<string> | undefined;

/** ISO 4217 codes the runtime knows (Intl), loaded on first use. */
export function currencyCodes(): ReadonlySet<string> {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return currencies;
}

/** Minor units of a currency (EUR 2, JPY 0, BHD 3), per the runtime's ICU data. */
export function currencyScale(code: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

function assertCurrency(rule: string, code: string): void {
  if (!currencyCodes().has(code)) {
    const hint = suggest(code, currencyCodes());
    throw new E_INVALID_RULE_OPTIONS(
      rule,
      `unknown currency "${code}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
    );
  }
}

/**
 * A BIC / SWIFT code: 4-letter bank, ISO country, 2-character location, optional branch.
 *
 * @example
 * ```ts
 * rules.bic().parse('DEUTDEFF500');
 * ```
 */
export function bic(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'bic',
    (value) =>
      /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/.test(value) &&
      (COUNTRY_CODES.has(value.slice(4, 6)) || value.slice(4, 6) === 'XK')
        ? undefined
        : 'Must be a valid BIC (SWIFT code)',
    options,
  );
}

/**
 * A VAT identification number in its country's format (EU member states with `EL` for Greece,
 * GB, XI, CH, NO), prefix included; spaces, dots and dashes are ignored. Format only: ask VIES
 * whether the number is actually registered.
 *
 * @example
 * ```ts
 * rules.vatNumber().parse('DE123456789');
 * rules.vatNumber({ countries: ['NL'] }).parse('NL123456789B01');
 * ```
 */
export function vatNumber(
  options: RuleOptions & { countries?: readonly string[] } = {},
): z.ZodString {
  const countries = options.countries?.map((c) => c.toUpperCase());
  for (const country of countries ?? []) {
    if (!(country in VAT_PATTERNS)) {
      throw new E_INVALID_RULE_OPTIONS('vatNumber', `no VAT number format for "${country}"`);
    }
  }
  return stringRule(
    'vatNumber',
    (value) => {
      const compact = value.replace(/[ .-]/g, '').toUpperCase();
      const prefix = compact.slice(0, 2);
      const pattern = VAT_PATTERNS[prefix];
      const valid =
        pattern !== undefined &&
        (!countries || countries.includes(prefix)) &&
        pattern.test(compact);
      return valid ? undefined : 'Must be a valid VAT number';
    },
    options,
  );
}

/**
 * An ISO 4217 currency code the runtime knows (`Intl.supportedValuesOf('currency')`).
 *
 * @example
 * ```ts
 * rules.currency().parse('EUR');
 * ```
 */
export function currency(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'currency',
    (value) => (currencyCodes().has(value) ? undefined : 'Must be an ISO 4217 currency code'),
    options,
  );
}

/** Options of {@link decimal}. */
export interface DecimalOptions extends RuleOptions {
  /** Total significant digits allowed (SQL `DECIMAL(precision, scale)`). */
  precision?: number;
  /** Digits allowed after the point. */
  scale?: number;
  /** Allow a leading `-` (default true). */
  signed?: boolean;
}

function integer(rule: string, name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new E_INVALID_RULE_OPTIONS(rule, `${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * A decimal number written as a string (exact, unlike a float): `'-12.50'`. With `precision`
 * and `scale` it fits a SQL `DECIMAL(precision, scale)` column.
 *
 * @example
 * ```ts
 * rules.decimal({ precision: 10, scale: 2 }).parse('12345678.90');
 * ```
 */
export function decimal(options: DecimalOptions = {}): z.ZodString {
  const { precision, scale, signed = true } = options;
  integer('decimal', 'precision', precision, 1);
  integer('decimal', 'scale', scale, 0);
  if (precision !== undefined && scale !== undefined && scale > precision) {
    throw new E_INVALID_RULE_OPTIONS('decimal', `scale ${scale} exceeds precision ${precision}`);
  }
  const pattern = signed ? /^[+-]?(\d+)(?:\.(\d+))?$/ : /^\+?(\d+)(?:\.(\d+))?$/;
  return stringRule(
    'decimal',
    (value) => {
      const match = pattern.exec(value);
      if (!match) return signed ? 'Must be a decimal number' : 'Must be a positive decimal number';
      const integerDigits = match[1]!.replace(/^0+(?=\d)/, '');
      const fraction = match[2] ?? '';
      if (scale !== undefined && fraction.length > scale) {
        return { message: `Must have at most {scale} decimal places`, params: { scale } };
      }
      if (precision !== undefined) {
        const maxInteger = precision - (scale ?? 0);
        const significant = integerDigits === '0' ? 0 : integerDigits.length;
        if (significant > maxInteger || significant + fraction.length > precision) {
          return {
            message: 'Must have at most {precision} digits ({scale} after the point)',
            params: { precision, scale: scale ?? 0 },
          };
        }
      }
      return undefined;
    },
    options,
  );
}

/** Options of {@link money}. */
export interface MoneyOptions extends RuleOptions {
  /** ISO 4217 code whose minor units fix the decimal places (EUR 2, JPY 0, BHD 3). */
  currency?: string;
  /** Allow negative amounts (refunds, credits). Default false. */
  negative?: boolean;
  /** Largest allowed amount, as a number (default 10^15 - 1). */
  max?: number;
}

/**
 * An amount of money as a string with no more decimals than the currency has minor units.
 *
 * @example
 * ```ts
 * rules.money({ currency: 'EUR' }).parse('19.99');
 * rules.money({ currency: 'JPY' }).parse('1500');
 * ```
 */
export function money(options: MoneyOptions = {}): z.ZodString {
  if (options.currency !== undefined) assertCurrency('money', options.currency);
  const scale = options.currency === undefined ? 2 : currencyScale(options.currency);
  const max = options.max ?? 999_999_999_999_999;
  const sign = options.negative ? '-?' : '';
  const pattern = new RegExp(`^${sign}\\d{1,15}${scale > 0 ? `(?:\\.\\d{1,${scale}})?` : ''}$`);
  return stringRule(
    'money',
    (value) => {
      if (!pattern.test(value)) {
        return {
          message:
            scale > 0
              ? 'Must be an amount with at most {scale} decimal places'
              : 'Must be a whole amount',
          params: { scale, ...(options.currency ? { currency: options.currency } : {}) },
        };
      }
      if (Math.abs(Number(value)) > max) {
        return { message: 'Must be at most {max}', params: { max } };
      }
      return undefined;
    },
    options,
  );
}
