import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/** Whether an address (a normalized client IP, `ctx.ip`) belongs to a compiled list. */
export type IpMatcher = (address: string) => boolean;

/** Why an allowlist entry was refused, for the caller to wrap in its own error code. */
export class InvalidIpEntry extends Error {
  readonly entry: string;

  constructor(entry: string, reason: string) {
    super(
      `"${entry}" is not an address, a CIDR range or loopback/linklocal/uniquelocal (${reason})`,
    );
    this.entry = entry;
  }
}

const NONE: IpMatcher = () => false;

/**
 * Compile addresses, CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`, `10.0.0.0/255.0.0.0`) and
 * the names `loopback`, `linklocal`, `uniquelocal` into one matcher, with proxy-addr (as
 * the trusted proxies are). IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) match IPv4
 * ranges and the other way round. Anything that is not a strict IP literal (`0x7f.1`,
 * `localhost`, an empty string) never matches, whatever the list.
 *
 * Throws {@link InvalidIpEntry} for the first entry it cannot parse, so a typo fails at boot.
 *
 * @example
 * ```ts
 * const office = compileIpMatcher(['10.0.0.0/8', '2001:db8::/32']);
 * office('::ffff:10.1.2.3'); // true
 * ```
 */
export function compileIpMatcher(entries: readonly string[]): IpMatcher {
  const trimmed: string[] = [];
  for (const raw of entries) {
    if (typeof raw !== 'string' || raw.trim() === '')
      throw new InvalidIpEntry(String(raw), 'empty or not a string');
    const entry = raw.trim();
    try {
      proxyAddr.compile(entry);
    } catch (error) {
      throw new InvalidIpEntry(entry, (error as Error).message);
    }
    trimmed.push(entry);
  }
  if (trimmed.length === 0) return NONE;
  // proxy-addr's trust function takes (address, hop); the hop is irrelevant here.
  const trust = proxyAddr.compile(trimmed);
  return (address) => isIP(address) !== 0 && trust(address, 0);
}

const LOOPBACK = compileIpMatcher(['loopback']);

/** Whether `address` is this host: 127.0.0.0/8 or ::1, plain or IPv4-mapped. */
export function isLoopbackIp(address: string): boolean {
  return LOOPBACK(address);
}
