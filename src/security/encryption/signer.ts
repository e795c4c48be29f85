import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBase64Url, encodeBase64Url } from './encoding.js';
import { type OpenOptions, purposeLabel, type SealOptions, seal, unseal } from './envelope.js';
import { E_SIGNATURE_INVALID, type RejectionReason } from './errors.js';
import { type AppKeys, deriveKey } from './key-ring.js';

const VERSION = 'v1';
const MAC_BYTES = 32;

export interface SignerOptions {
  /** The application keys (see `readAppKeys`): the current one signs, all verify. */
  keys: AppKeys;
  /** Clock for expiry, epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Tamper-proof (not secret) values: HMAC-SHA256 with a key derived from `APP_KEY`, over the
 * version, the purpose and the payload. The output is `v1.<payload>.<mac>`, base64url; the
 * payload is readable by anyone, so sign what may be seen and encrypt what may not.
 * Signatures made with a previous key keep verifying during a key rotation.
 *
 * @example
 * ```ts
 * const signer = app.make('signer');
 * const link = signer.sign({ email }, { purpose: 'verify-email', expiresIn: '1h' });
 * signer.unsign(link, { purpose: 'verify-email' }); // { email }
 * ```
 */
export class Signer {
  readonly #current: Buffer;
  readonly #all: readonly Buffer[];
  readonly #now: () => number;

  constructor(options: SignerOptions) {
    this.#current = deriveKey(options.keys.current, 'signing');
    this.#all = [this.#current, ...options.keys.previous.map((k) => deriveKey(k, 'signing'))];
    this.#now = options.now ?? Date.now;
  }

  /** Sign any JSON-serializable value with the current key. */
  sign(value: unknown, options: SealOptions = {}): string {
    const payload = encodeBase64Url(Buffer.from(seal(value, options, this.#now(), 'sign')));
    const mac = computeMac(this.#current, options.purpose, payload);
    return `${VERSION}.${payload}.${encodeBase64Url(mac)}`;
  }

  /** The value, or `E_SIGNATURE_INVALID` when it is malformed, forged, for another purpose or expired. */
  unsign<T = unknown>(signed: string, options: OpenOptions = {}): T {
    const opened = this.#open(signed, options);
    if (typeof opened === 'string') throw new E_SIGNATURE_INVALID(opened);
    return opened.value as T;
  }

  /** The value, or `undefined` where {@link unsign} would throw. */
  tryUnsign<T = unknown>(signed: string, options: OpenOptions = {}): T | undefined {
    const opened = this.#open(signed, options);
    return typeof opened === 'string' ? undefined : (opened.value as T);
  }

  #open(signed: unknown, options: OpenOptions): { value: unknown } | RejectionReason {
    if (typeof signed !== 'string') return 'malformed';
    const parts = signed.split('.', 4);
    if (parts.length !== 3) return 'malformed';
    const [version, payload, macPart] = parts as [string, string, string];
    if (version !== VERSION) return /^v\d+$/.test(version) ? 'unsupported-version' : 'malformed';
    const given = decodeBase64Url(macPart);
    const bytes = decodeBase64Url(payload);
    if (!given || given.length !== MAC_BYTES || !bytes) return 'malformed';
    // Every key is tried (no early exit on a match) so the time taken does not say which
    // key signed; timingSafeEqual compares equal-length digests.
    let valid = false;
    for (const key of this.#all)
      valid = timingSafeEqual(computeMac(key, options.purpose, payload), given) || valid;
    if (!valid) return 'authentication';
    return unseal(bytes.toString('utf8'), this.#now());
  }
}

function computeMac(key: Buffer, purpose: string | undefined, payload: string): Buffer {
  return createHmac('sha256', key)
    .update(`${VERSION}|${purposeLabel(purpose)}|${payload}`)
    .digest();
}
