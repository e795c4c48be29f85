import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { validateSync } from '../validator.js';
import { rules } from './index.js';

function accepts(schema: z.ZodType, value: unknown): boolean {
  return validateSync(schema, value).success;
}

function messageOf(schema: z.ZodType, value: unknown): string | undefined {
  return validateSync(schema, value).errors?.[0]?.message;
}

describe('rule options that cannot work are refused when the schema is declared', () => {
  it.each([
    [
      'iban',
      () => rules.iban({ countries: ['DX'] }),
      /no IBAN format for country "DX" \(did you mean/,
    ],
    ['isbn', () => rules.isbn({ version: 11 as never }), /version is 10 or 13/],
    ['ean', () => rules.ean({ lengths: [9 as never] }), /length 9 is not one of/],
    ['vatNumber', () => rules.vatNumber({ countries: ['US'] }), /no VAT number format for "US"/],
    ['decimal', () => rules.decimal({ precision: 2, scale: 3 }), /scale 3 exceeds precision 2/],
    ['decimal', () => rules.decimal({ precision: 0 }), /precision must be an integer >= 1/],
    ['decimal', () => rules.decimal({ scale: 1.5 }), /scale must be an integer >= 0/],
    [
      'money',
      () => rules.money({ currency: 'EURO' }),
      /unknown currency "EURO" \(did you mean "EUR"\?\)/,
    ],
    [
      'postalCode',
      () => rules.postalCode('DEU'),
      /no postal code format for "DEU" \(did you mean "DE"\?\); known: AT/,
    ],
    [
      'phone',
      () => rules.phone({ format: 'fax' as never }),
      /format is 'e164', 'lenient' or 'any'/,
    ],
    ['ip', () => rules.ip({ version: 5 as never }), /version is 4 or 6/],
    ['username', () => rules.username({ min: -1 }), /min must be a non-negative integer/],
    ['password', () => rules.password({ min: 20, max: 10 }), /min 20 exceeds max 10/],
    ['digits', () => rules.digits({ min: 2.5 }), /min must be a non-negative integer/],
    [
      'cron',
      () => rules.cron({ seconds: 'sometimes' as never }),
      /seconds is true, false or 'optional'/,
    ],
    ['duration', () => rules.duration({ max: 'soon' }), /"duration": max: Invalid duration "soon"/],
  ])('%s', (_rule, build, message) => {
    expect(build).toThrow(message);
  });

  it('with the catalogued error code', () => {
    expect(() => rules.decimal({ precision: 1, scale: 2 })).toThrow(E_INVALID_RULE_OPTIONS);
  });
});

describe('rule options change what is accepted', () => {
  it('iban limits countries', () => {
    const schema = rules.iban({ countries: ['de'] });
    expect(accepts(schema, 'DE89370400440532013000')).toBe(true);
    expect(accepts(schema, 'GB82WEST12345698765432')).toBe(false);
  });

  it('isbn and ean pick the kinds', () => {
    expect(accepts(rules.isbn({ version: 10 }), '0-306-40615-2')).toBe(true);
    expect(messageOf(rules.isbn({ version: 10 }), '978-0-306-40615-7')).toBe(
      'Must be a valid ISBN-10',
    );
    expect(accepts(rules.isbn({ version: 13 }), '0-306-40615-2')).toBe(false);
    expect(accepts(rules.ean({ lengths: [13] }), '96385074')).toBe(false);
  });

  it('vatNumber limits countries', () => {
    expect(accepts(rules.vatNumber({ countries: ['at'] }), 'ATU12345678')).toBe(true);
    expect(accepts(rules.vatNumber({ countries: ['AT'] }), 'DE123456789')).toBe(false);
  });

  it('decimal reports precision and sign problems with their limits', () => {
    expect(messageOf(rules.decimal({ precision: 4, scale: 1 }), '1234.5')).toBe(
      'Must have at most 4 digits (1 after the point)',
    );
    expect(messageOf(rules.decimal({ scale: 2 }), '1.234')).toBe(
      'Must have at most 2 decimal places',
    );
    expect(accepts(rules.decimal({ precision: 3 }), '0.12')).toBe(true);
    expect(messageOf(rules.decimal({ signed: false }), '-1')).toBe(
      'Must be a positive decimal number',
    );
    expect(accepts(rules.decimal({ signed: false }), '+1.5')).toBe(true);
  });

  it('money follows the currency, the sign and the maximum', () => {
    expect(messageOf(rules.money({ currency: 'JPY' }), '1.5')).toBe('Must be a whole amount');
    expect(accepts(rules.money({ currency: 'BHD' }), '1.234')).toBe(true);
    expect(accepts(rules.money({ negative: true }), '-10.50')).toBe(true);
    expect(messageOf(rules.money({ max: 100 }), '100.01')).toBe('Must be at most 100');
    expect(messageOf(rules.money(), '1.234')).toBe(
      'Must be an amount with at most 2 decimal places',
    );
  });

  it('postalCode covers its countries', () => {
    const samples: Record<string, string> = {
      US: '94105-1234',
      CA: 'K1A 0B1',
      DE: '10115',
      FR: '75008',
      PL: '00-950',
      PT: '1000-001',
      SE: '114 55',
      JP: '100-0001',
      BR: '01310-100',
      IE: 'D02 X285',
      GB: 'EC1A 1BB',
      ES: '28013',
      LU: 'L-1234',
      IN: '110001',
      AT: '1010',
      CH: '8001',
      AU: '2000',
      BE: '1000',
      DK: '1050',
      IT: '00184',
      NL: '1012 JS',
      NO: '0150',
    };
    for (const [country, code] of Object.entries(samples)) {
      expect(accepts(rules.postalCode(country), code), `${country} ${code}`).toBe(true);
    }
    expect(messageOf(rules.postalCode('es'), '53001')).toBe('Must be a valid postal code for ES');
  });

  it('phone formats', () => {
    expect(accepts(rules.phone({ format: 'e164' }), '030 1234567')).toBe(false);
    expect(messageOf(rules.phone({ format: 'e164' }), '0301234567')).toMatch(
      /international format/,
    );
    expect(accepts(rules.phone({ format: 'lenient' }), '+14155550123')).toBe(true);
    expect(accepts(rules.phone({ format: 'lenient' }), '(030 1234567')).toBe(false);
  });

  it('ip and cidr versions', () => {
    expect(accepts(rules.ip({ version: 6 }), '10.0.0.1')).toBe(false);
    expect(messageOf(rules.ip({ version: 4 }), '::1')).toBe('Must be an IPv4 address');
    expect(accepts(rules.cidr({ version: 6 }), '2001:db8::/48')).toBe(true);
    expect(accepts(rules.cidr({ version: 6 }), '10.0.0.0/8')).toBe(false);
  });

  it('domain with IDN, port with zero, extra disposable domains', () => {
    expect(accepts(rules.domain({ idn: true }), 'münchen.de')).toBe(true);
    expect(accepts(rules.domain({ idn: true }), 'mün chen.de')).toBe(false);
    expect(accepts(rules.port({ allowZero: true }), 0)).toBe(true);
    expect(
      accepts(rules.notDisposableEmail({ domains: ['Throwaway.test'] }), 'a@mx.throwaway.test'),
    ).toBe(false);
  });

  it('username lengths, password maximum, hex color forms', () => {
    expect(messageOf(rules.username(), 'ab')).toBe('Must be 3 to 32 characters long');
    const long = rules.password({ max: 10 });
    expect(validateSync(long, 'a'.repeat(11)).errors?.[0]?.message).toBe(
      'Must be at most 10 characters',
    );
    expect(validateSync(rules.password({ letters: true }), '12345678').errors?.[0]?.message).toBe(
      'Must contain a letter',
    );
    expect(accepts(rules.hexColor({ alpha: false }), '#1e90ff80')).toBe(false);
    expect(accepts(rules.hexColor({ hash: 'optional' }), '1e90ff')).toBe(true);
  });

  it('password lists every unmet requirement', () => {
    const errors = validateSync(
      rules.password({ min: 12, mixedCase: true, numbers: true, symbols: true }),
      'abc',
    ).errors;
    expect(errors?.map((e) => e.message)).toEqual([
      'Must be at least 12 characters',
      'Must contain upper- and lower-case letters',
      'Must contain a number',
      'Must contain a symbol',
    ]);
    expect(new Set(errors?.map((e) => e.rule))).toEqual(new Set(['password']));
  });

  it('json size, base64url, ASCII letters, digit ranges', () => {
    expect(messageOf(rules.json({ maxLength: 5 }), '[1,2,3]')).toBe(
      'Must be JSON of at most 5 characters',
    );
    expect(accepts(rules.base64({ url: true }), 'S2VlbA')).toBe(true);
    expect(accepts(rules.base64({ url: true }), 'S2-_bA==')).toBe(true);
    expect(messageOf(rules.base64({ url: true }), 'S2+/bA==')).toBe('Must be base64url text');
    expect(accepts(rules.base64({ url: true }), 'S2VlbA=')).toBe(false);
    expect(accepts(rules.alpha({ ascii: true }), 'Zoë')).toBe(false);
    expect(accepts(rules.alphaNum({ ascii: true }), 'Order42')).toBe(true);
    expect(accepts(rules.alphaDash({ ascii: true }), 'ärger')).toBe(false);
    expect(messageOf(rules.digits({ min: 4, max: 6 }), '123')).toBe('Must be 4 to 6 digits');
    expect(messageOf(rules.digits(), '12a')).toBe('Must be digits only');
  });

  it('duration bounds, media types without a list', () => {
    expect(messageOf(rules.duration({ min: '1s' }), '500ms')).toBe(
      'Must be a duration from 1s to ∞',
    );
    expect(accepts(rules.mimeType(), 'application/octet-stream')).toBe(true);
    expect(messageOf(rules.mimeType({ allowed: ['application/pdf'] }), 'text/plain')).toBe(
      'Must be one of: application/pdf',
    );
  });

  it('cron with or without seconds names the faulty field', () => {
    expect(accepts(rules.cron({ seconds: true }), '0 */5 * * * *')).toBe(true);
    expect(messageOf(rules.cron({ seconds: true }), '*/5 * * * *')).toBe(
      'Must be a cron expression: has 5 fields, expected 6',
    );
    expect(messageOf(rules.cron({ seconds: false }), '0 * * * * *')).toBe(
      'Must be a cron expression: has 6 fields, expected 5',
    );
    expect(messageOf(rules.cron(), '* 24 * * *')).toBe(
      'Must be a cron expression: hour field "24" is not valid (0-23)',
    );
    expect(messageOf(rules.cron(), '* * * * * * *')).toBe(
      'Must be a cron expression: has 7 fields, expected 5 or 6',
    );
    expect(messageOf(rules.cron(), '@sometimes')).toBe(
      'Must be a cron expression: unknown macro "@sometimes"',
    );
    expect(messageOf(rules.cron(), `${'1,'.repeat(200)}1 * * * *`)).toBe(
      'Must be a cron expression: is too long',
    );
    expect(accepts(rules.cron(), '0 0 * * 5L')).toBe(true);
    expect(accepts(rules.cron(), '0 0 * * 1/2/3')).toBe(false);
    expect(accepts(rules.cron(), '0 0 * * 1-2-3')).toBe(false);
  });

  it('timezone refuses non-IANA shapes quickly', () => {
    expect(accepts(rules.timezone(), 'US/Pacific')).toBe(true);
    expect(accepts(rules.timezone(), `A/${'b'.repeat(70)}`)).toBe(false);
  });
});
