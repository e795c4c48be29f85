import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeBase64Url, encodeBase64Url } from './encoding.js';
import { type OpenOptions, purposeLabel, type SealOptions, seal, unseal } from './envelope.js';
import { E_DECRYPTION_FAILED, type RejectionReason } from './errors.js';
import { type AppKeys, deriveKey } from './key-ring.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncrypterOptions {
  /** The application keys (see `readAppKeys`): the current one encrypts, all decrypt. */
  keys: AppKeys;
  /** Clock for expiry, epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Authenticated encryption with the application key: AES-256-GCM, a random 96-bit IV per
 * value, the purpose bound as additional data, and an optional expiry inside the
 * ciphertext. The output is `v1.<iv>.<ciphertext>.<tag>`, each part base64url, safe in
 * URLs, headers and cookies. Values encrypted under a previous key (`APP_PREVIOUS_KEYS`)
 * still decrypt; new values always use the current key.
 *
 * @example
 * ```ts
 * const encryption = app.make('encryption');
 * const token = encryption.encrypt({ userId: 7 }, { purpose: 'invite', expiresIn: '2d' });
 * encryption.decrypt(token, { purpose: 'invite' }); // { userId: 7 }
 * encryption.tryDecrypt('garbage'); // undefined
 * ```
 */
export class Encrypter {
  readonly #current: Buffer;
  readonly #all: readonly Buffer[];
  readonly #now: () => number;

  constructor(options: EncrypterOptions) {
    this.#current = deriveKey(options.keys.current, 'encryption');
    this.#all = [this.#current, ...options.keys.previous.map((k) => deriveKey(k, 'encryption'))];
    this.#now = options.now ?? Date.now;
  }

  /** Encrypt any JSON-serializable value with the current key. */
  encrypt(value: unknown, options: SealOptions = {}): string {
    const plaintext = seal(value, options, this.#now(), 'encrypt');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(purposeLabel(options.purpose)));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${VERSION}.${encodeBase64Url(iv)}.${encodeBase64Url(body)}.${encodeBase64Url(tag)}`;
  }

  /** The value, or `E_DECRYPTION_FAILED` when it is malformed, forged, for another purpose or expired. */
  decrypt<T = unknown>(payload: string, options: OpenOptions = {}): T {
    const opened = this.#open(payload, options);
    if (typeof opened === 'string') throw new E_DECRYPTION_FAILED(opened);
    return opened.value as T;
  }

  /** The value, or `undefined` where {@link decrypt} would throw. */
  tryDecrypt<T = unknown>(payload: string, options: OpenOptions = {}): T | undefined {
    const opened = this.#open(payload, options);
    return typeof opened === 'string' ? undefined : (opened.value as T);
  }

  #open(payload: unknown, options: OpenOptions): { value: unknown } | RejectionReason {
    if (typeof payload !== 'string') return 'malformed';
    const parts = payload.split('.', 5);
    if (parts.length !== 4) return 'malformed';
    const [version, ivPart, bodyPart, tagPart] = parts as [string, string, string, string];
    if (version !== VERSION) return /^v\d+$/.test(version) ? 'unsupported-version' : 'malformed';
    const iv = decodeBase64Url(ivPart);
    const body = decodeBase64Url(bodyPart);
    const tag = decodeBase64Url(tagPart);
    // A short tag would weaken GCM to a guessable checksum: only the full 16 bytes pass.
    if (!iv || iv.length !== IV_BYTES || !body || !tag || tag.length !== TAG_BYTES)
      return 'malformed';
    const aad = Buffer.from(purposeLabel(options.purpose));
    for (const key of this.#all) {
      const plaintext = decryptWith(key, iv, body, tag, aad);
      if (plaintext === undefined) continue;
      const opened = unseal(plaintext, this.#now());
      return opened;
    }
    return 'authentication';
  }
}

/** GCM checks the tag in `final()` (in constant time); a mismatch throws there. */
function decryptWith(
  key: Buffer,
  iv: Buffer,
  body: Buffer,
  tag: Buffer,
  aad: Buffer,
): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
