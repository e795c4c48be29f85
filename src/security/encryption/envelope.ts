import { parseDuration } from '../../support/index.js';
import { E_ENCRYPTION_PAYLOAD_INVALID } from './errors.js';

/** Options when encrypting or signing. */
export interface SealOptions {
  /**
   * What the value is for (`'password-reset'`, `'session'`): a value made for one purpose
   * is rejected when opened for another, so a token cannot be replayed elsewhere.
   */
  purpose?: string;
  /** Lifetime: milliseconds or a duration (`'15m'`, `'2h'`). Default: no expiry. */
  expiresIn?: number | string;
}

/** Options when decrypting or verifying: the purpose the value must have been made for. */
export interface OpenOptions {
  purpose?: string;
}

/** What is sealed: the value and, when it expires, the epoch milliseconds of its expiry. */
interface Envelope {
  v: unknown;
  e?: number;
}

export function seal(value: unknown, options: SealOptions, now: number, what: string): string {
  const envelope: Envelope = { v: value };
  if (options.expiresIn !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(options.expiresIn);
    } catch {
      throw new E_ENCRYPTION_PAYLOAD_INVALID(
        what,
        `expiresIn ${JSON.stringify(options.expiresIn)} is not a duration`,
      );
    }
    envelope.e = now + ms;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(envelope);
  } catch (error) {
    throw new E_ENCRYPTION_PAYLOAD_INVALID(what, (error as Error).message);
  }
  // JSON.stringify drops an undefined or function value from the object silently.
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw new E_ENCRYPTION_PAYLOAD_INVALID(what, `a ${typeof value} is not JSON`);
  return text as string;
}

/** The envelope's value, `'expired'`, or `'malformed'` (authenticated but not ours). */
export function unseal(text: string, now: number): { value: unknown } | 'expired' | 'malformed' {
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    return 'malformed';
  }
  if (typeof envelope !== 'object' || envelope === null || !Object.hasOwn(envelope, 'v'))
    return 'malformed';
  const { v, e } = envelope as Envelope;
  if (e !== undefined && (typeof e !== 'number' || now >= e)) return 'expired';
  return { value: v };
}

/** Purpose bound into the MAC or the GCM additional data, length-prefixed to stay unambiguous. */
export function purposeLabel(purpose: string | undefined): string {
  const p = purpose ?? '';
  return `keel:v1:${p.length}:${p}`;
}
