import { createHash, timingSafeEqual } from 'node:crypto';
import { compileIpMatcher, InvalidIpEntry, isLoopbackIp } from '../../security/ip/index.js';
import { E_HEALTH_CONFIG_INVALID } from './errors.js';

/**
 * Who may read the health endpoints: an IP allowlist (addresses, CIDR ranges and the
 * names `loopback`, `linklocal`, `uniquelocal`, matched with proxy-addr as the trusted
 * proxies are) and a bearer key compared in constant time.
 *
 * @example
 * ```ts
 * const access = new HealthAccess({ allowlist: ['10.0.0.0/8'], apiKey: env.HEALTH_API_KEY });
 * access.allows('10.1.2.3'); // true
 * access.bearer('Bearer wrong'); // false
 * ```
 */
export class HealthAccess {
  /** Whether an allowlist was configured at all (`/ready` is open without one). */
  readonly restricted: boolean;
  readonly #match: (address: string) => boolean;
  readonly #key: Buffer | undefined;

  constructor(options: { allowlist?: readonly string[] | undefined; apiKey?: string | undefined }) {
    this.restricted = options.allowlist !== undefined;
    this.#match = compileAllowlist(options.allowlist ?? []);
    this.#key = options.apiKey === undefined ? undefined : digest(options.apiKey);
  }

  /** Whether `address` (a normalized client IP, `ctx.ip`) is on the allowlist. */
  allows(address: string): boolean {
    return this.#match(address);
  }

  /** Whether the detailed endpoint's local default (loopback only) lets `address` in. */
  static isLoopback(address: string): boolean {
    return isLoopbackIp(address);
  }

  /**
   * Whether an `Authorization` header carries the configured key. Both sides are hashed
   * first, so the comparison takes the same time whatever the key's length or content.
   */
  bearer(header: string | undefined): boolean {
    if (this.#key === undefined || header === undefined) return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) return false;
    return timingSafeEqual(digest(match[1]!), this.#key);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function compileAllowlist(entries: readonly string[]): (address: string) => boolean {
  try {
    return compileIpMatcher(entries);
  } catch (error) {
    if (!(error instanceof InvalidIpEntry)) throw error;
    throw new E_HEALTH_CONFIG_INVALID('security.health_ip_allowlist', error.message).withCause(
      error,
    );
  }
}
