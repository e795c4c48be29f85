const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decode base64url strictly: only the URL alphabet, no padding, and canonical — the
 * unused low bits of the last character must be zero. Node's decoder ignores those bits,
 * so without the round-trip check two different strings would carry the same bytes and
 * a "tampered" value could still verify.
 */
export function decodeBase64Url(part: string): Buffer | undefined {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
