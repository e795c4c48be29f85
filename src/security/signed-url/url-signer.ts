import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseDuration } from '../../support/index.js';
import { type AppKeys, deriveKey } from '../encryption/key-ring.js';

/** Why a URL did not verify. */
export type UrlCheck = 'valid' | 'missing' | 'invalid' | 'expired';

export interface UrlSignerOptions {
  keys: AppKeys;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

const SIGNATURE = 'signature';
const EXPIRES = 'expires';
const MAC = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs URLs (a path with its query) so that nobody can change a parameter, and optionally
 * makes them expire: `expires=<unix seconds>` joins the query and `signature` (HMAC-SHA256
 * of everything before it, under a key derived from `APP_KEY` for this use only) ends it.
 * Verification recomputes the MAC over the query as the client sent it, minus the
 * signature, with the current key and each previous one, and compares in constant time.
 * Relative URLs are signed, so the same link works behind any host or proxy.
 *
 * @example
 * ```ts
 * const link = signer.sign('/invoices/42/download', { expiresIn: '7d' });
 * // '/invoices/42/download?expires=1767225600&signature=3Jk…'
 * signer.check(link); // 'valid'
 * ```
 */
export class UrlSigner {
  readonly #current: Buffer;
  readonly #all: readonly Buffer[];
  readonly #now: () => number;

  constructor(options: UrlSignerOptions) {
    this.#current = deriveKey(options.keys.current, 'url-signing');
    this.#all = [
      this.#current,
      ...options.keys.previous.map((key) => deriveKey(key, 'url-signing')),
    ];
    this.#now = options.now ?? Date.now;
  }

  /** `url` (a path, with or without a query) signed, expiring after `expiresIn` when given. */
  sign(url: string, options: { expiresIn?: string | number } = {}): string {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // A signature or expiry already there would be ambiguous: the new ones replace them.
    const pairs = (q === -1 ? '' : url.slice(q + 1))
      .split('&')
      .filter((pair) => pair !== '' && !isParam(pair, SIGNATURE) && !isParam(pair, EXPIRES));
    if (options.expiresIn !== undefined) {
      const seconds = Math.ceil((this.#now() + parseDuration(options.expiresIn)) / 1000);
      pairs.push(`${EXPIRES}=${seconds}`);
    }
    const unsigned = pairs.length > 0 ? `${path}?${pairs.join('&')}` : path;
    const signature = mac(this.#current, unsigned).toString('base64url');
    return `${unsigned}${pairs.length > 0 ? '&' : '?'}${SIGNATURE}=${signature}`;
  }

  /** Whether `url` (as received: `req.url`) carries a valid, unexpired signature. */
  check(url: string): UrlCheck {
    const q = url.indexOf('?');
    if (q === -1) return 'missing';
    const path = url.slice(0, q);
    const pairs = url.slice(q + 1).split('&');
    // The signature must be the last parameter: anything after it was not signed.
    const last = pairs.at(-1)!;
    if (!isParam(last, SIGNATURE))
      return pairs.some((p) => isParam(p, SIGNATURE)) ? 'invalid' : 'missing';
    const given = last.slice(SIGNATURE.length + 1);
    if (!MAC.test(given)) return 'invalid';
    const unsigned = pairs.length > 1 ? `${path}?${pairs.slice(0, -1).join('&')}` : path;
    const expected = Buffer.from(given, 'base64url');
    // Canonical base64url only: another spelling of the same bytes is not the signature.
    if (expected.toString('base64url') !== given) return 'invalid';
    let valid = false;
    for (const key of this.#all) valid = timingSafeEqual(mac(key, unsigned), expected) || valid;
    if (!valid) return 'invalid';
    const expiry = pairs.slice(0, -1).filter((p) => isParam(p, EXPIRES));
    if (expiry.length > 1) return 'invalid';
    if (expiry.length === 1) {
      const seconds = expiry[0]!.slice(EXPIRES.length + 1);
      if (!/^\d{1,12}$/.test(seconds)) return 'invalid';
      if (Number(seconds) * 1000 <= this.#now()) return 'expired';
    }
    return 'valid';
  }
}

function isParam(pair: string, name: string): boolean {
  return pair.startsWith(`${name}=`);
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}
