import type { HttpContext, MiddlewareFn, Next } from '../../http/index.js';
import { suggest } from '../../support/index.js';
import { E_IP_FORBIDDEN, E_SECURITY_CONFIG_INVALID } from '../errors.js';
import { compileIpMatcher, InvalidIpEntry, type IpMatcher } from './ip-matcher.js';

/** `security.ip` in config/security.ts: named allowlists for `allow_ip:<name>`. */
export interface IpConfig {
  /** Named lists of addresses, CIDR ranges and `loopback`/`linklocal`/`uniquelocal`. */
  lists?: Record<string, readonly string[]>;
}

/**
 * Validate `security.ip` and compile each named list once, at boot.
 *
 * @example
 * ```ts
 * const lists = compileIpLists({ lists: { office: ['10.0.0.0/8'] } });
 * lists.get('office')?.('10.1.2.3'); // true
 * ```
 */
export function compileIpLists(config: unknown): ReadonlyMap<string, IpMatcher> {
  const lists = new Map<string, IpMatcher>();
  if (config === undefined) return lists;
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new E_SECURITY_CONFIG_INVALID('security.ip', 'expected an object like { lists: {...} }');
  for (const key of Object.keys(config)) {
    if (key !== 'lists')
      throw new E_SECURITY_CONFIG_INVALID(`security.ip.${key}`, 'unknown key (expected "lists")');
  }
  const named = (config as IpConfig).lists;
  if (named === undefined) return lists;
  if (typeof named !== 'object' || named === null || Array.isArray(named))
    throw new E_SECURITY_CONFIG_INVALID(
      'security.ip.lists',
      'expected an object of named lists, e.g. { office: ["10.0.0.0/8"] }',
    );
  for (const [name, entries] of Object.entries(named)) {
    const key = `security.ip.lists.${name}`;
    if (!/^[A-Za-z0-9_.-]+$/.test(name))
      throw new E_SECURITY_CONFIG_INVALID(key, 'a list name is letters, digits, "_", "." or "-"');
    if (!Array.isArray(entries) || entries.length === 0)
      throw new E_SECURITY_CONFIG_INVALID(key, 'expected a non-empty array of addresses or ranges');
    lists.set(name, compileOrThrow(entries, key));
  }
  return lists;
}

function compileOrThrow(entries: readonly string[], key: string): IpMatcher {
  try {
    return compileIpMatcher(entries);
  } catch (error) {
    if (!(error instanceof InvalidIpEntry)) throw error;
    throw new E_SECURITY_CONFIG_INVALID(key, error.message).withCause(error);
  }
}

/**
 * The `allow_ip` middleware for one set of alias arguments: each argument is the name of
 * a list in `security.ip.lists` or an address / CIDR range itself
 * (`allow_ip:office,2001:db8::/32`). Unknown names fail at boot with a suggestion.
 * Requests from other addresses get 403 `E_IP_FORBIDDEN`; the address is `ctx.ip`, so a
 * trusted proxy's `X-Forwarded-For` is already resolved.
 *
 * @example
 * ```ts
 * router.group({ prefix: '/admin', middleware: ['allow_ip:office'] }, (r) => { ... });
 * ```
 */
export function ipAllowlist(args: readonly string[], lists: ReadonlyMap<string, IpMatcher>) {
  const label = `allow_ip:${args.join(',')}`;
  if (args.length === 0 || args.every((arg) => arg === ''))
    throw new E_SECURITY_CONFIG_INVALID(
      label,
      'name a list from security.ip.lists or give addresses, e.g. allow_ip:office',
    );
  const matchers: IpMatcher[] = [];
  const literal: string[] = [];
  for (const arg of args) {
    const list = lists.get(arg);
    if (list !== undefined) matchers.push(list);
    else if (
      /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(arg) &&
      !/^(?:loopback|linklocal|uniquelocal)$/.test(arg)
    ) {
      const nearest = suggest(arg, lists.keys());
      throw new E_SECURITY_CONFIG_INVALID(
        label,
        `no list "${arg}" in security.ip.lists${nearest ? `; did you mean "${nearest}"?` : ''}`,
      );
    } else literal.push(arg);
  }
  if (literal.length > 0) matchers.push(compileOrThrow(literal, label));
  return ipAllowlistMiddleware(matchers.length === 1 ? matchers[0]! : anyOf(matchers));
}

function anyOf(matchers: readonly IpMatcher[]): IpMatcher {
  return (address) => matchers.some((match) => match(address));
}

/** Middleware refusing (403 `E_IP_FORBIDDEN`) every client `allows` does not accept. */
export function ipAllowlistMiddleware(allows: IpMatcher): MiddlewareFn {
  return function allowIp(ctx: HttpContext, next: Next) {
    if (!allows(ctx.ip)) throw new E_IP_FORBIDDEN(ctx.path);
    return next();
  };
}
