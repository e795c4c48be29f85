import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes: 256 bits, far past the 128 bits OWASP asks of a session id. */
const ID_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const HANDLE_PATTERN = /^[0-9a-f]{64}$/;

/** A new session id: 32 bytes from the CSPRNG, base64url (43 characters). */
export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** Whether `value` has the shape of an id this framework generates (not whether it exists). */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * What stores keep instead of the id: its SHA-256, hex. A leaked table, file listing or
 * Redis dump then holds no usable session ids; the same hash is the public handle of a
 * session in "your active sessions" lists.
 */
export function sessionHandle(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Whether `value` is a handle (as opposed to a raw id). */
export function isSessionHandle(value: unknown): value is string {
  return typeof value === 'string' && HANDLE_PATTERN.test(value);
}
