import { randomBytes } from 'node:crypto';
import { E_APP_KEY_INVALID } from './errors.js';

const PREFIX = 'base64:';
/** AES-256 and HMAC-SHA-256 both want exactly this many bytes of key. */
export const APP_KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A fresh application key: `base64:` followed by 32 bytes from the system CSPRNG.
 *
 * @example
 * ```ts
 * generateAppKey(); // 'base64:3q2+7w...='
 * ```
 */
export function generateAppKey(): string {
  return PREFIX + randomBytes(APP_KEY_BYTES).toString('base64');
}

/**
 * Decode an `APP_KEY` into its 32 bytes, or throw `E_APP_KEY_INVALID` saying what is wrong.
 * The key itself never appears in the error.
 *
 * @example
 * ```ts
 * const secret = parseAppKey(env.get('APP_KEY')!); // Buffer of 32 bytes
 * ```
 */
export function parseAppKey(key: string): Buffer {
  if (typeof key !== 'string' || key.trim() === '') throw new E_APP_KEY_INVALID('it is empty');
  const text = key.trim();
  if (!text.startsWith(PREFIX)) {
    throw new E_APP_KEY_INVALID(`it must start with "${PREFIX}"`);
  }
  const encoded = text.slice(PREFIX.length);
  // Buffer.from(…, 'base64') skips invalid characters silently, so check the alphabet first.
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new E_APP_KEY_INVALID(`the part after "${PREFIX}" is not valid base64`);
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== APP_KEY_BYTES) {
    throw new E_APP_KEY_INVALID(
      `it decodes to ${bytes.length} bytes; ${APP_KEY_BYTES} are required`,
    );
  }
  return bytes;
}
