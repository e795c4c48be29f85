import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { createRuleCheck, numberRule, type RuleOptions, stringRule } from '../rule-check.js';
import { DISPOSABLE_EMAIL_DOMAINS } from './reference-data.js';

/** Options of the IP rules. */
export interface IpOptions extends RuleOptions {
  /** Only this IP version (default: both). */
  version?: 4 | 6;
}

function checkVersion(rule: string, version: unknown): void {
  if (version !== undefined && version !== 4 && version !== 6) {
    throw new E_INVALID_RULE_OPTIONS(rule, `version is 4 or 6, got ${String(version)}`);
  }
}

function ipVersion(value: string, version: 4 | 6 | undefined): boolean {
  const found = isIP(value);
  return found !== 0 && (version === undefined || found === version);
}

/**
 * An IPv4 or IPv6 address (Node's `net.isIP`). Zod's `z.ipv4()`/`z.ipv6()` work too; this one
 * accepts both under one rule name.
 *
 * @example
 * ```ts
 * rules.ip().parse('2001:db8::1');
 * rules.ip({ version: 4 }).parse('192.168.0.1');
 * ```
 */
export function ip(options: IpOptions = {}): z.ZodString {
  checkVersion('ip', options.version);
  const label = options.version ? `an IPv${options.version}` : 'an IP';
  return stringRule(
    'ip',
    (value) => (ipVersion(value, options.version) ? undefined : `Must be ${label} address`),
    options,
  );
}

/**
 * A CIDR block: an address and a prefix length within its version's bits (`10.0.0.0/8`).
 *
 * @example
 * ```ts
 * rules.cidr().parse('2001:db8::/32');
 * ```
 */
export function cidr(options: IpOptions = {}): z.ZodString {
  checkVersion('cidr', options.version);
  return stringRule(
    'cidr',
    (value) => {
      const slash = value.lastIndexOf('/');
      const address = value.slice(0, slash);
      const prefix = value.slice(slash + 1);
      const version = slash > 0 ? isIP(address) : 0;
      const valid =
        version !== 0 &&
        (options.version === undefined || version === options.version) &&
        /^(?:0|[1-9]\d{0,2})$/.test(prefix) &&
        Number(prefix) <= (version === 4 ? 32 : 128);
      return valid ? undefined : 'Must be a CIDR block (address/prefix)';
    },
    options,
  );
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** True for a fully qualified host name of two or more labels, ASCII (punycode) form. */
export function isDomain(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) if (!LABEL.test(label)) return false;
  // a top-level domain is never numeric (that would be an IPv4 address)
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * A domain name (`example.com`, `mail.example.co.uk`). With `idn: true` Unicode names are
 * accepted too (`münchen.de`), checked in their punycode form.
 *
 * @example
 * ```ts
 * rules.domain().parse('keel.dev');
 * ```
 */
export function domain(options: RuleOptions & { idn?: boolean } = {}): z.ZodString {
  return stringRule(
    'domain',
    (value) => {
      const ascii = options.idn && /[^\p{ASCII}]/u.test(value) ? domainToASCII(value) : value;
      return isDomain(ascii) ? undefined : 'Must be a valid domain name';
    },
    options,
  );
}

/**
 * A MAC address: six hex pairs with one consistent `:` or `-` separator, or Cisco's
 * `xxxx.xxxx.xxxx`.
 *
 * @example
 * ```ts
 * rules.macAddress().parse('00:1A:2B:3C:4D:5E');
 * ```
 */
export function macAddress(options: RuleOptions = {}): z.ZodString {
  return stringRule(
    'macAddress',
    (value) =>
      /^[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$/i.test(value) ||
      /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(value)
        ? undefined
        : 'Must be a MAC address',
    options,
  );
}

/**
 * A TCP/UDP port number, an integer from 1 to 65535 (0 with `allowZero`, meaning "any").
 *
 * @example
 * ```ts
 * rules.port().parse(8080);
 * ```
 */
export function port(options: RuleOptions & { allowZero?: boolean } = {}): z.ZodNumber {
  const min = options.allowZero ? 0 : 1;
  return numberRule(
    'port',
    (value) =>
      Number.isInteger(value) && value >= min && value <= 65535
        ? undefined
        : { message: 'Must be a port number from {min} to 65535', params: { min } },
    options,
  );
}

/**
 * An e-mail address (Zod's `z.email()`) whose domain, or any parent domain, is not a known
 * disposable-mail provider. The built-in list is small; pass `domains` to add yours.
 *
 * @example
 * ```ts
 * rules.notDisposableEmail({ domains: ['throwaway.test'] }).parse('ada@example.com');
 * ```
 */
export function notDisposableEmail(
  options: RuleOptions & { domains?: readonly string[] } = {},
): z.ZodEmail {
  const extra = new Set(options.domains?.map((d) => d.toLowerCase()));
  const blocked = (host: string): boolean => DISPOSABLE_EMAIL_DOMAINS.has(host) || extra.has(host);
  return z.email().check(
    createRuleCheck<string>(
      'notDisposableEmail',
      (value) => {
        let host = value.slice(value.lastIndexOf('@') + 1).toLowerCase();
        for (;;) {
          if (blocked(host)) {
            return {
              message: 'Disposable e-mail addresses are not accepted',
              params: { domain: host },
            };
          }
          const dot = host.indexOf('.');
          if (dot < 0) return undefined;
          host = host.slice(dot + 1);
        }
      },
      options,
    ),
  );
}
