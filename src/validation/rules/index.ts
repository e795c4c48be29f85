import { asyncRule } from '../rule-check.js';
import { bic, currency, decimal, money, vatNumber } from './business-rules.js';
import { creditCard, ean, iban, isbn } from './checksum-rules.js';
import { cron } from './cron-rule.js';
import {
  confirmed,
  different,
  distinct,
  prohibitedIf,
  prohibitedUnless,
  requiredIf,
  requiredUnless,
  requiredWith,
  requiredWithout,
  sameAs,
  when,
} from './field-rules.js';
import {
  country,
  language,
  latitude,
  longitude,
  phone,
  postalCode,
  timezone,
} from './locale-rules.js';
import { cidr, domain, ip, macAddress, notDisposableEmail, port } from './network-rules.js';
import {
  alpha,
  alphaDash,
  alphaNum,
  base64,
  digits,
  duration,
  filename,
  hexColor,
  json,
  mimeType,
  password,
  semver,
  slug,
  ulid,
  username,
} from './text-rules.js';

/**
 * Keel's validation rules, as Zod 4 schemas (`rules.iban()` is a `z.ZodString`) and checks
 * for objects and arrays (`z.object(...).check(rules.requiredIf(...))`). Each error carries
 * the rule's name in `FieldError.rule`. The catalogue is in docs/validation.md.
 *
 * @example
 * ```ts
 * import { rules } from 'keel/validation';
 * const Supplier = z.object({
 *   iban: rules.iban(),
 *   country: rules.country(),
 *   vatId: rules.vatNumber().optional(),
 * });
 * ```
 */
export const rules = {
  // identifiers with checksums
  iban,
  creditCard,
  isbn,
  ean,
  // business and money
  bic,
  vatNumber,
  currency,
  decimal,
  money,
  // locale and geography
  country,
  language,
  timezone,
  postalCode,
  phone,
  latitude,
  longitude,
  // network
  ip,
  cidr,
  domain,
  macAddress,
  port,
  notDisposableEmail,
  // text formats
  slug,
  username,
  password,
  hexColor,
  semver,
  ulid,
  json,
  base64,
  alpha,
  alphaNum,
  alphaDash,
  digits,
  filename,
  duration,
  mimeType,
  cron,
  // objects and arrays
  sameAs,
  different,
  confirmed,
  requiredIf,
  requiredUnless,
  requiredWith,
  requiredWithout,
  prohibitedIf,
  prohibitedUnless,
  when,
  distinct,
  // app rules with I/O
  async: asyncRule,
} as const;

/** The names of Keel's rules, as they appear in `FieldError.rule`. */
export type KeelRuleName = Exclude<keyof typeof rules, 'async' | 'when'>;
